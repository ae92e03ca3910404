"""The monitoring dashboard (staff, in the admin) and the Prometheus /metrics endpoint (scrapers)."""

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.access import metrics_token_presented
from apps.monitoring import selectors
from apps.monitoring.charts import traffic_chart_svg
from apps.monitoring.metrics import CONTENT_TYPE, metrics_exposition

# key: (label, length, chart buckets, bucket label format)
WINDOWS: dict[str, tuple[str, timedelta, int, str]] = {
    "1h": ("Last hour", timedelta(hours=1), 12, "%H:%M"),
    "24h": ("Last 24 hours", timedelta(hours=24), 24, "%H:%M"),
    "7d": ("Last 7 days", timedelta(days=7), 28, "%a %H:%M"),
}
DEFAULT_WINDOW = "24h"
SLOWEST_SHOWN = 10
# Headers a reverse proxy adds: a request carrying one came from elsewhere, whatever its peer address.
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def monitoring_dashboard(request: HttpRequest) -> TemplateResponse:
    """Traffic, errors, latency per node and the slowest requests over a chosen window (admin only)."""
    if not request.user.has_perm("monitoring.view_trace"):
        raise PermissionDenied
    window = request.GET.get("window", DEFAULT_WINDOW)
    if window not in WINDOWS:
        window = DEFAULT_WINDOW
    label, length, buckets, time_format = WINDOWS[window]
    now = timezone.now()
    since = now - length
    summary = selectors.trace_summary(since=since)
    series = selectors.traffic_series(since=since, until=now, buckets=buckets)
    chart = traffic_chart_svg(
        labels=[timezone.localtime(b.start).strftime(time_format) for b in series],
        requests=[b.requests for b in series],
        errors=[b.errors for b in series],
        p95_ms=[b.p95_ms for b in series],
    )
    context = {
        **admin.site.each_context(request),
        "title": "Monitoring",
        "window": window,
        "window_label": label,
        "windows": [(key, value[0]) for key, value in WINDOWS.items()],
        "summary": summary,
        "error_percent": summary.error_rate * 100,
        "nodes": selectors.node_latency(since=since),
        "slowest": selectors.slowest_traces(since=since, limit=SLOWEST_SHOWN),
        "faithfulness": selectors.faithfulness_summary(since=since),
        "eval_metrics": selectors.EVAL_METRICS,
        "eval_runs": selectors.eval_run_history(),
        # Built by traffic_chart_svg from numbers and escaped labels only.
        "chart": mark_safe(chart),  # noqa: S308
    }
    return TemplateResponse(request, "admin/monitoring/dashboard.html", context)


def _from_loopback(request: HttpRequest) -> bool:
    if any(request.META.get(header) for header in _PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def metrics_scrape_allowed(request: HttpRequest) -> bool:
    """A scraper that presents METRICS_TOKEN as a bearer token; with DEBUG on, also one on this host.

    A reverse proxy on this host makes every request look local, which is why loopback alone is
    trusted only in development.
    """
    return metrics_token_presented(request) or (settings.DEBUG and _from_loopback(request))


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition, computed from the database at scrape time."""
    if not metrics_scrape_allowed(request):
        message = "Metrics are served to requests with the metrics bearer token (METRICS_TOKEN)."
        return JsonResponse({"error": {"code": "forbidden", "message": message}}, status=403)
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE)
