"""Typed readers for settings that come from the environment.

Every secret may also come from a file named by ``<NAME>_FILE`` (Docker and
Kubernetes secrets), so nothing secret has to sit in an environment dump.
"""

import os
from pathlib import Path

from lib.errors import ConfigurationError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE={file_path} cannot be read: {exc.strerror}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not an integer") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def data_dir() -> Path:
    """DATA_DIR: where the embedded servers, the secret key and the models live (default ./var)."""
    return Path(env_str("DATA_DIR") or Path(__file__).resolve().parent.parent / "var").resolve()


def embedded_start() -> None:
    """Start the embedded PostgreSQL and broker that the settings will point at (those without a *_URL)."""
    from apps.core import embedded

    embedded.start(data_dir(), postgres=not env_str("DATABASE_URL"), redis=not env_str("REDIS_URL"))
