"""Credentials out of anything shown: the userinfo of URLs (``scheme://user:password@host``) in any text.

Used on what the API returns, what the admin lists, crawl errors, traces and every log line.
"""

import logging
import re
from collections.abc import Iterable

REDACTED = "***"
# scheme://userinfo@ : the userinfo runs to the last "@" before the host's end ("/", "?", "#" or space).
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s@]*(?:@[^/?#\s@]*)*)@")


def url_redact(text: str) -> str:
    """``text`` with the userinfo of every URL in it replaced by ``***``."""
    if "@" not in text:
        return text
    return _USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)


def secrets_redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with URL userinfo and each of ``secrets`` (as given, when not trivially short) redacted."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return url_redact(text)


class RedactingFormatter(logging.Formatter):
    """A log formatter whose output, message and traceback alike, never carries URL credentials."""

    def format(self, record: logging.LogRecord) -> str:
        return url_redact(super().format(record))
