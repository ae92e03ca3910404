from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.health import service_health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Public health probe: 200 while the service can answer, 503 when a backend it needs is down."""
    health = service_health()
    return JsonResponse(health, status=503 if health["status"] == "down" else 200)
