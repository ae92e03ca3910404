"""Generation providers: one interface over the local model, a TGI server and OpenAI-compatible endpoints.

``provider_from_settings`` builds the configured one and keeps it for the life
of the process, so the local model is loaded once per worker. The local model is
LOCAL_MODEL_PATH if set, else the promoted all-authors production model (the
registry's MODELS_DIR/production pointer), else the packaged SmolLM2; the cache is
keyed by that path, so a promotion is served from the next request on. Each
author's production version (MODELS_DIR/production-author-<id>) is served beside
it, a LoRA adapter on the shared base, and updated in place on every call: an
author's promotion loads that one adapter, without a restart.

``twin_adapter`` names the adapter a request for one author is answered by, and ``served_model_name`` the
version that answers it.
"""

import threading
from pathlib import Path

from django.conf import settings

from apps.rag.providers.base import (
    ChatMessage,
    Generation,
    GenerationParams,
    GenerationProvider,
    ProviderError,
    ProviderUnavailable,
)
from lib.errors import ConfigurationError
from lib.packaged_models import CONVERTED_NAME
from lib.production_pointer import adapter_name, is_adapter_dir, production_authors, production_model_path

__all__ = [
    "ChatMessage",
    "Generation",
    "GenerationParams",
    "GenerationProvider",
    "ProviderError",
    "ProviderUnavailable",
    "provider_from_settings",
    "served_model_name",
    "twin_adapter",
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
            if name == "local":  # a promotion replaced the model: let the old one go
                for stale in [k for k in _providers if k[0] == "local"]:
                    del _providers[stale]
            _providers[key] = _build(name, key)
        provider = _providers[key]
    if name == "local":
        provider.adapters_update(_author_versions())  # type: ignore[attr-defined]
    return provider


def twin_adapter(*, author_ids: list[int] | None, provider: str | None = None) -> str:
    """The served adapter that answers as the one author of author_ids, or "" (the all-authors model).

    An author with a production version has one; remote servers (TGI, vLLM) serve adapters only,
    so an author whose production version is a merged model is answered by the all-authors model there.
    """
    return adapter_name(author_ids[0]) if _adapter_version(author_ids, provider) else ""


def _adapter_version(author_ids: list[int] | None, provider: str | None) -> Path | None:
    """The production directory of the one author of author_ids, where the provider serves it as theirs."""
    if not author_ids or len(author_ids) != 1:
        return None
    directory = production_model_path(Path(settings.MODELS_DIR), author_ids[0])
    if directory is None:
        return None
    provider = provider or getattr(settings, "LLM_PROVIDER", "local")
    return directory if provider == "local" or is_adapter_dir(directory) else None


def served_model_name(*, author_ids: list[int] | None = None) -> str:
    """What the configured provider answers with, named without loading it: a model version's directory name
    (e.g. "dpo-v1"), the packaged model's, or the remote model's id. For one author (author_ids, as the
    graph's filters hold them) whose production version answers as theirs (twin_adapter), that version's."""
    name = getattr(settings, "LLM_PROVIDER", "local")
    if (version := _adapter_version(author_ids, name)) is not None:
        return version.name
    if name == "openai":
        return getattr(settings, "OPENAI_MODEL", "") or "twin"
    if name == "tgi":  # TGI serves the production pointer (docker-compose), when there is one
        production = production_model_path(Path(settings.MODELS_DIR))
        return production.name if production else "tgi"
    path = _local_model_path()
    return Path(path).name if path else CONVERTED_NAME


def _provider_settings(name: str) -> tuple:
    """The settings a provider is built from: a change (e.g. in a test) builds a new one."""
    if name == "local":
        return (_local_model_path(), str(_model_cache_dir()), getattr(settings, "MODEL_PRECISION", "auto"))
    if name == "tgi":
        return (getattr(settings, "TGI_URL", ""), _timeout_s())
    if name == "openai":
        names = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL")
        return (*(getattr(settings, n, "") for n in names), _timeout_s())
    raise ConfigurationError(f"LLM_PROVIDER must be one of {', '.join(PROVIDER_NAMES)}, not {name!r}.")


def _author_versions() -> dict[str, Path]:
    """Each author's production directory under its served name (author-<id>)."""
    return {adapter_name(author): path for author, path in production_authors(Path(settings.MODELS_DIR)).items()}


def _local_model_path() -> str:
    """LOCAL_MODEL_PATH, else the production model's directory, else "" (the packaged SmolLM2)."""
    if configured := getattr(settings, "LOCAL_MODEL_PATH", ""):
        return configured
    production = production_model_path(Path(settings.MODELS_DIR))
    return str(production) if production else ""


def _build(name: str, key: tuple) -> GenerationProvider:
    if name == "local":
        from apps.rag.providers.local import LocalProvider

        path = key[1]
        return LocalProvider(
            Path(path) if path else None,
            cache_dir=_model_cache_dir(),
            precision=key[3],
            adapters=_author_versions(),
        )
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
