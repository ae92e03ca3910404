"""API keys: made, checked and revoked here. A key reads ``tw_<prefix>_<secret>``; only its hash is stored."""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from apps.chat.models import API_KEY_SCOPES, ApiKey, api_key_scopes_all
from lib.errors import TwinsiteError

_SCHEME = "tw"
# Recording every use would write on every request; once a minute says as much.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(
    *,
    user: AbstractBaseUser,
    name: str,
    scopes: Sequence[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key for the user: the row, and the key itself, which is never shown again.

    ``scopes`` None gives every scope (the staff scope only acts for staff users); ``expires_at`` None: never.
    """
    if not name.strip():
        raise TwinsiteError("Name the key after what will use it.")
    scopes = api_key_scopes_all() if scopes is None else list(dict.fromkeys(scopes))
    unknown = [scope for scope in scopes if scope not in API_KEY_SCOPES]
    if unknown or not scopes:
        raise TwinsiteError(f"Give at least one scope of: {', '.join(API_KEY_SCOPES)} (not {', '.join(unknown)}).")
    if expires_at is not None and expires_at <= timezone.now():
        raise TwinsiteError("The key would expire before it is used: give a time in the future.")
    prefix = secrets.token_hex(4)
    key = f"{_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        user=user, name=name.strip(), prefix=prefix, key_hash=_digest(key), scopes=scopes, expires_at=expires_at
    )
    return api_key, key


def api_key_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])


def api_key_check(key: str) -> ApiKey | None:
    """The active key this is (not revoked, not expired, its user active), or None. Constant-time comparison."""
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != _SCHEME or not prefix or not secret:
        return None
    api_key = ApiKey.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _digest(key)) or not api_key.user.is_active:
        return None
    if api_key.is_expired:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key
