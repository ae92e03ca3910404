"""The SSRF-safe HTTP client every crawler uses. See client.py for the fetch flow, addresses.py for the rules."""

from apps.core.http.addresses import CheckedUrl, address_is_allowed, url_checked, url_is_allowed
from apps.core.http.client import HttpClient
from apps.core.http.errors import (
    BlockedAddressError,
    BotChallengeError,
    FetchError,
    HttpStatusError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    TooManyRedirectsError,
)
from apps.core.http.result import FetchResult

__all__ = [
    "address_is_allowed",
    "BlockedAddressError",
    "BotChallengeError",
    "CheckedUrl",
    "FetchError",
    "FetchResult",
    "HttpClient",
    "HttpStatusError",
    "ResponseTooLargeError",
    "RobotsDisallowedError",
    "TooManyRedirectsError",
    "url_checked",
    "url_is_allowed",
]
