from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.access import operator_details_allowed
from apps.core.health import service_health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Health probe: 200 while the service can answer, 503 when a backend it needs is down.

    Anyone learns up or down per backend; versions, worker host names and errors are for staff
    and for requests bearing METRICS_TOKEN.
    """
    health = service_health()
    if not operator_details_allowed(request):
        health["checks"] = {name: {"up": check["up"]} for name, check in health["checks"].items()}
    return JsonResponse(health, status=503 if health["status"] == "down" else 200)
