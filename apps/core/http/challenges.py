"""Recognise bot-check interstitials (Cloudflare and captcha walls) so they are recorded as failures, not content.

An ordinary article may mention "enable JavaScript" or quote a challenge page; so phrases only
count on an error status or on a thin page, while markers found only in challenge markup count anywhere.
"""

import re

SNIFF_BYTES = 64 * 1024
_CHALLENGE_STATUSES = frozenset({403, 429, 503})
# Below this much visible text a page is an interstitial, not writing.
_THIN_PAGE_CHARS = 1500
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})

_CHALLENGE_MARKUP = ("window._cf_chl_opt", 'id="challenge-form"', "cf-browser-verification", "cf-challenge-running")
_INTERSTITIAL_PHRASES = (
    "just a moment...",
    "enable javascript and cookies to continue",
    "checking your browser",
    "attention required! | cloudflare",
    "verify you are human",
    "please complete the security check",
    "are you a robot",
    "g-recaptcha",
    "h-captcha",
    "cf-turnstile",
    "captcha-delivery",
    "px-captcha",
)
_INVISIBLE = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def is_bot_challenge(*, status: int, headers: dict[str, str], content_type: str, content: bytes) -> bool:
    if "cf-mitigated" in headers:  # Cloudflare sets it only on challenged responses
        return True
    if content_type not in _HTML_TYPES and status not in _CHALLENGE_STATUSES:
        return False
    head = content[:SNIFF_BYTES].decode("utf-8", errors="replace").lower()
    if any(marker in head for marker in _CHALLENGE_MARKUP):
        return True
    if not any(phrase in head for phrase in _INTERSTITIAL_PHRASES):
        return False
    return status in _CHALLENGE_STATUSES or _visible_text_length(content) < _THIN_PAGE_CHARS


def _visible_text_length(content: bytes) -> int:
    html = content.decode("utf-8", errors="replace")
    text = _TAG.sub(" ", _INVISIBLE.sub(" ", html))
    return len(" ".join(text.split()))
