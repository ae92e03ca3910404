"""API keys: made, checked and revoked here. A key reads ``tw_<prefix>_<secret>``; only its hash is stored."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from apps.chat.models import ApiKey
from lib.errors import TwinsiteError

_SCHEME = "tw"
# Recording every use would write on every request; once a minute says as much.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiKey, str]:
    """A new key for the user: the row, and the key itself, which is never shown again."""
    if not name.strip():
        raise TwinsiteError("Name the key after what will use it.")
    prefix = secrets.token_hex(4)
    key = f"{_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    return ApiKey.objects.create(user=user, name=name.strip(), prefix=prefix, key_hash=_digest(key)), key


def api_key_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])


def api_key_check(key: str) -> ApiKey | None:
    """The active key this is, or None. Constant-time comparison of the hashes."""
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != _SCHEME or not prefix or not secret:
        return None
    api_key = ApiKey.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _digest(key)) or not api_key.user.is_active:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key
