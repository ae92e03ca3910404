"""Generation providers: one interface over the local model, a TGI server and OpenAI-compatible endpoints.

``provider_from_settings`` builds the configured one and keeps it for the life
of the process, so the local model is loaded once per worker.
"""

import threading
from pathlib import Path

from django.conf import settings

from apps.core.errors import ConfigurationError
from apps.rag.providers.base import (
    ChatMessage,
    Generation,
    GenerationParams,
    GenerationProvider,
    ProviderError,
    ProviderUnavailable,
)

__all__ = [
    "ChatMessage",
    "Generation",
    "GenerationParams",
    "GenerationProvider",
    "ProviderError",
    "ProviderUnavailable",
    "provider_from_settings",
]

PROVIDER_NAMES = ("local", "tgi", "openai")

_providers: dict[tuple, GenerationProvider] = {}
_providers_lock = threading.Lock()


def provider_from_settings(name: str | None = None) -> GenerationProvider:
    """The provider called name (default: settings.LLM_PROVIDER), built once per process and configuration."""
    name = name or getattr(settings, "LLM_PROVIDER", "local")
    key = (name, *_provider_settings(name))
    with _providers_lock:  # also makes a second caller wait for the model the first one is loading
        if key not in _providers:
            _providers[key] = _build(name)
        return _providers[key]


def _provider_settings(name: str) -> tuple:
    """The settings a provider is built from: a change (e.g. in a test) builds a new one."""
    if name == "local":
        return (getattr(settings, "LOCAL_MODEL_PATH", ""), str(_model_cache_dir()))
    if name == "tgi":
        return (getattr(settings, "TGI_URL", ""), _timeout_s())
    if name == "openai":
        names = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL")
        return (*(getattr(settings, n, "") for n in names), _timeout_s())
    raise ConfigurationError(f"LLM_PROVIDER must be one of {', '.join(PROVIDER_NAMES)}, not {name!r}.")


def _build(name: str) -> GenerationProvider:
    if name == "local":
        from apps.rag.providers.local import LocalProvider

        path = getattr(settings, "LOCAL_MODEL_PATH", "")
        return LocalProvider(Path(path) if path else None, cache_dir=_model_cache_dir())
    if name == "tgi":
        from apps.rag.providers.tgi import TGIProvider

        return TGIProvider(_required_url("TGI_URL"), timeout_s=_timeout_s())
    from apps.rag.providers.openai_compatible import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        _required_url("OPENAI_BASE_URL"),
        api_key=getattr(settings, "OPENAI_API_KEY", ""),
        model=getattr(settings, "OPENAI_MODEL", "twin") or "twin",
        timeout_s=_timeout_s(),
    )


def _model_cache_dir() -> Path:
    return Path(getattr(settings, "MODEL_CACHE_DIR", "") or Path(settings.DATA_DIR) / "models")


def _timeout_s() -> float:
    return float(getattr(settings, "LLM_TIMEOUT_S", 60))


def _required_url(setting: str) -> str:
    url = getattr(settings, setting, "")
    if not url or not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{setting} must be set to the server's http(s) URL for this LLM provider.")
    return url
