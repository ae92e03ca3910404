"""The operator playground: a staff page that chats with the twin through the REST API, and its traces.

The page itself holds no logic of its own: its script calls POST /api/v1/chat with the operator's session
(and CSRF token), so it exercises exactly what API clients get.
"""

import uuid
from functools import wraps

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, JsonResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from apps.chat.errors import envelope
from apps.monitoring.models import Span, Trace
from apps.sources.models import Author

DEFAULT_MAX_TOKENS = 128
MAX_TOKENS_LIMIT = 1024  # the API's own bound on max_tokens


def _staff_only_json(view):
    """Staff only, answered in the API's envelope: a script reads this, so a login page would be no help."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> JsonResponse:
        if not (request.user.is_active and request.user.is_staff):
            message = "Only staff can read traces; sign in to the admin first."
            return JsonResponse(envelope("forbidden", message), status=403)
        return view(request, *args, **kwargs)

    return guarded


def _trace_admin_url(request: HttpRequest, trace_id: uuid.UUID) -> str | None:
    # The read-only Trace admin is optional, and needs its own permission: without either, the page
    # shows the timings inline only rather than a link that fails.
    if not request.user.has_perm("monitoring.view_trace"):
        return None
    try:
        return reverse("admin:monitoring_trace_change", args=[trace_id])
    except NoReverseMatch:
        return None


@require_GET
@staff_member_required
@ensure_csrf_cookie
def playground(request: HttpRequest) -> TemplateResponse:
    """Ask the twin as any author (or none), watch the answer stream in, check its sources and timings."""
    context = {
        **admin.site.each_context(request),
        "title": "Playground",
        "authors": list(Author.objects.order_by("name").values_list("name", flat=True)),
        "default_max_tokens": DEFAULT_MAX_TOKENS,
        "max_tokens_limit": MAX_TOKENS_LIMIT,
        # The page fills the id in: a placeholder keeps URLs in the URLconf, not in the script.
        "trace_url_template": reverse("playground-trace", args=[uuid.UUID(int=0)]),
    }
    return TemplateResponse(request, "chat/playground.html", context)


def _span_row(span: Span) -> dict:
    return {
        "node": span.node,
        "duration_ms": span.duration_ms,
        "model": span.model,
        "prompt_tokens": span.prompt_tokens,
        "completion_tokens": span.completion_tokens,
    }


@require_GET
@_staff_only_json
def playground_trace(request: HttpRequest, trace_id: uuid.UUID) -> JsonResponse:
    """One request's trace: its totals and a row per graph node, in the order the nodes ran."""
    trace = Trace.objects.filter(pk=trace_id).first()
    if trace is None:
        return JsonResponse(envelope("not_found", f"No trace has the id {trace_id}."), status=404)
    return JsonResponse(
        {
            "id": str(trace.pk),
            "kind": trace.kind,
            "status": trace.status,
            "error": trace.error,
            "total_ms": trace.total_ms,
            "model": trace.model,
            "prompt_tokens": trace.prompt_tokens,
            "completion_tokens": trace.completion_tokens,
            "spans": [_span_row(span) for span in trace.spans.order_by("ordinal")],
            "admin_url": _trace_admin_url(request, trace.pk),
        }
    )
