"""API rate limits per user, counted atomically in Redis (apps.core.counters); open when Redis is out."""

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from apps.core.counters import window_hit
from lib.telemetry.metrics import THROTTLED_REQUESTS


class UserRateThrottle(BaseThrottle):
    """The view's ``throttle_scope`` (else "api") at its configured rate, per user: every key of one user
    shares one budget (per client address when nobody is signed in)."""

    THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    parse_rate = SimpleRateThrottle.parse_rate

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scope", None) or "api"
        rate = self.THROTTLE_RATES.get(scope)
        if rate is None:
            return True
        limit, window_s = self.parse_rate(rate)
        user = getattr(request, "user", None)
        who = f"user-{user.pk}" if user is not None and user.is_authenticated else f"ip-{self.get_ident(request)}"
        counted = window_hit(f"throttle:{scope}:{who}", window_s=window_s)
        if counted is None:  # Redis is out: let it through (apps.core.counters logged why)
            return True
        hits, remaining_s = counted
        self._wait = remaining_s
        if hits > limit:
            THROTTLED_REQUESTS.labels(scope).inc()
            return False
        return True

    def wait(self) -> float | None:
        return self._wait


KeyRateThrottle = UserRateThrottle  # its name before it counted per user
