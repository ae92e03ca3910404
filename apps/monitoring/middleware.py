"""Counts every HTTP response by route pattern, method and status, and times it (lib.telemetry.metrics)."""

import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from lib.telemetry.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS

UNMATCHED = "unmatched"  # no URL pattern matched (a 404 for an unknown path): one label for all of them
STATIC = "static"  # files WhiteNoise served before any URL pattern was tried


def _route(request: HttpRequest) -> str:
    """The URL pattern that matched (``api/v1/conversations/<uuid:conversation_id>``), never the path itself:
    paths carry ids and whatever a client invents, which would make a label value per request."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return match.route
    return STATIC if request.path.startswith(settings.STATIC_URL) else UNMATCHED


def _observe(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
    route, method = _route(request), request.method or "GET"
    HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
    HTTP_REQUEST_DURATION.labels(route, method).observe(time.perf_counter() - started)


class RequestMetricsMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self._acall(request)
        started = time.perf_counter()
        response = self.get_response(request)
        _observe(request, response, started)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = await self.get_response(request)
        _observe(request, response, started)
        return response
