"""One error envelope for every API failure: {"error": {"code", "message", "field"?}}, never a stack trace."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.core.database import DATABASE_DOWN_ERRORS
from apps.rag.providers import ProviderError, ProviderUnavailable
from lib.errors import TwinsiteError
from lib.redaction import url_redact

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 30
DATABASE_DOWN = "The database is not answering; try again shortly."
_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ValidationError: "invalid",
}


def envelope(code: str, message: str, field: str | None = None) -> dict:
    error = {"code": code, "message": url_redact(message)}  # an echoed URL never shows its credentials
    if field:
        error["field"] = field
    return {"error": error}


def _first_problem(detail, path: str = "") -> tuple[str | None, str]:
    """The first field (a dotted path for nested input) and message of a DRF validation error."""
    if isinstance(detail, dict):
        name, value = next(iter(detail.items()))
        if name != "non_field_errors":
            path = f"{path}.{name}" if path else name
        return _first_problem(value, path)
    if isinstance(detail, list) and detail:
        return _first_problem(detail[0], path)
    return path or None, str(detail)


def database_down(exc: Exception) -> None:
    logger.warning("The database is not answering: %s", exc.__class__.__name__)


def api_exception_handler(exc: Exception, context: dict) -> Response:
    if isinstance(exc, DATABASE_DOWN_ERRORS):
        database_down(exc)
        response = Response(envelope("database_unavailable", DATABASE_DOWN), status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    if isinstance(exc, ProviderUnavailable):
        response = Response(envelope("model_unavailable", str(exc)), status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    if isinstance(exc, ProviderError):
        return Response(envelope("model_error", str(exc)), status=status.HTTP_502_BAD_GATEWAY)
    if isinstance(exc, RequestDataTooBig):  # behind a server that did not refuse it first (apps.core.limits)
        return Response(envelope("too_large", str(exc)), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TwinsiteError):
        return Response(envelope("invalid", str(exc)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(
            envelope("server_error", "Something went wrong on our side; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    code = next((code for kind, code in _CODES.items() if isinstance(exc, kind)), "error")
    if isinstance(exc, exceptions.ValidationError):
        field, message = _first_problem(exc.detail)
        response.data = envelope(code, f"{field}: {message}" if field else message, field)
    else:
        response.data = envelope(code, str(getattr(exc, "detail", exc)))
    return response


def json_not_found(request, exception=None) -> JsonResponse:
    return JsonResponse(envelope("not_found", f"Nothing is at {request.path}."), status=404)


def json_server_error(request) -> JsonResponse:
    return JsonResponse(envelope("server_error", "Something went wrong on our side; it has been logged."), status=500)
