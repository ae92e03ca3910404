"""Credentials a source needs (a git token, a MongoDB password), kept out of its URL.

A URL given as ``scheme://user:password@host/...`` is stored without its userinfo; the userinfo is
sealed (Fernet, keyed from SECRET_KEY, SECRET_KEY_FALLBACKS still open old ones) in
``Source.credentials``, which no serializer, list or error shows. Crawlers get it back in
``SourceSpec.credentials`` and hand it to git or MongoDB out of band, never inside a URL.
"""

import base64
import hashlib
import re
from urllib.parse import unquote

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from lib.errors import TwinsiteError

_AUTHORITY = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/?#]*)(?P<rest>.*)$", re.DOTALL)
_PURPOSE = "twinsite.sources.credentials"


class SourceCredentialsError(TwinsiteError):
    """Stored credentials that can no longer be opened (SECRET_KEY changed)."""


def url_credentials_split(url: str) -> tuple[str, str]:
    """(the URL without userinfo, the userinfo as written, percent-encoding kept; "" when there is none)."""
    match = _AUTHORITY.match(url.strip())
    if match is None or "@" not in match["authority"]:
        return url.strip(), ""
    userinfo, _, hosts = match["authority"].rpartition("@")
    return f"{match['scheme']}{hosts}{match['rest']}", userinfo


def userinfo_parts(userinfo: str) -> tuple[str, str]:
    """(user name, password) of a URL's userinfo, percent-decoded."""
    user, _, password = userinfo.partition(":")
    return unquote(user), unquote(password)


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"{_PURPOSE}:{key}".encode()).digest())) for key in keys]
    )


def credentials_seal(userinfo: str) -> str:
    return _fernet().encrypt(userinfo.encode()).decode() if userinfo else ""


def credentials_open(sealed: str) -> str:
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SourceCredentialsError(
            "This source's credentials cannot be opened (SECRET_KEY changed since they were saved); enter them again."
        ) from None
