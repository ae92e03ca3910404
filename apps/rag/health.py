"""The operations check, run every NOTICE_CHECK_INTERVAL_S by beat: is the model backend up, do crawls keep
failing? It opens, raises and resolves the notices staff see (apps.monitoring.notices) and emails new ones."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from apps.monitoring.notices import backend_notice_sync, crawl_notices_sync, notices_email
from apps.rag.providers import ProviderError, provider_from_settings
from lib.errors import ConfigurationError


def backend_down_reason() -> str | None:
    """Why the configured remote model backend cannot serve now, or None when it answers. The local model
    runs inside the workers, up whenever they are: it is not probed (that would load it here)."""
    if settings.LLM_PROVIDER == "local":
        return None
    try:
        provider_from_settings().probe()
    except (ProviderError, ConfigurationError) as exc:
        return str(exc)
    return None


def operations_check(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    raised = crawl_notices_sync(now=now)
    raised += backend_notice_sync(provider=settings.LLM_PROVIDER, down_reason=backend_down_reason(), now=now)
    return {"raised": len(raised), "emailed": notices_email(notices=raised, now=now)}
