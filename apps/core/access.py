"""Who may read operational details: staff signed in, or a scraper presenting METRICS_TOKEN."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare


def metrics_token_presented(request: HttpRequest) -> bool:
    """``Authorization: Bearer <METRICS_TOKEN>``, compared in constant time; never true without a token set."""
    token = getattr(settings, "METRICS_TOKEN", "")
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and constant_time_compare(offered.strip(), token)


def operator_details_allowed(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff) or metrics_token_presented(request)
