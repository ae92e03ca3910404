"""Which sources are local paths, and where on this machine a path source may read.

Anything without a ``scheme://`` is a path, and only absolute paths are taken: a relative path
would be read from whatever directory the worker happens to run in (the application's own, with
its settings). The resolved path, every symbolic link followed, must lie inside an import folder.
The service checks it when a source is saved, and each crawler again when it reads, so a link
swapped in between the two is caught.
"""

import re
from collections.abc import Iterable
from pathlib import Path

from lib.errors import TwinsiteError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class ImportPathError(TwinsiteError):
    """A local path that is relative, malformed, or outside the import folders."""


def is_local_path(url: str) -> bool:
    """True for anything that is not ``scheme://…``: ``../x``, ``.``, ``twinsite`` and ``file:x`` included."""
    return _SCHEME.match(url.strip()) is None


def import_path(location: str, *, roots: Iterable[Path]) -> Path:
    """The resolved path ``location`` names, if it is absolute and lies inside one of ``roots``."""
    roots = [Path(root).resolve() for root in roots]
    folders = ", ".join(str(root) for root in roots) or "none are configured"
    text = location.strip()
    try:
        path = Path(text).expanduser() if text.startswith("~") else Path(text)
        if not path.is_absolute():
            raise ImportPathError(
                f"{location} is a relative path; give an absolute path inside an import folder ({folders})."
            )
        resolved = path.resolve()
    except (RuntimeError, ValueError, OSError):  # an unknown ~user, a NUL byte, a symlink loop
        raise ImportPathError(f"{location} is not a usable path.") from None
    if not any(resolved.is_relative_to(root) for root in roots):
        raise ImportPathError(f"{location} is outside the import folders ({folders}); set IMPORT_ROOTS to allow it.")
    return resolved


def import_roots_or_configured(roots: Iterable[Path] | None) -> tuple[Path, ...]:
    """The roots a crawler was given, else the configured IMPORT_ROOTS (never "anywhere")."""
    if roots is None:
        from django.conf import settings

        roots = settings.IMPORT_ROOTS
    return tuple(Path(root) for root in roots)
