from rest_framework.throttling import SimpleRateThrottle

from apps.chat.models import ApiKey


class KeyRateThrottle(SimpleRateThrottle):
    """Rates per API key (per user for session logins): the view's throttle_scope, else "api"."""

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, "throttle_scope", None) or "api"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self) -> str | None:
        return self.THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
