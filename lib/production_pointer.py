"""The production pointers: MODELS_DIR/production for all authors, MODELS_DIR/production-author-<id> per author.

Each is a symlink to the promoted version's directory (a standalone model or a LoRA
adapter). Promotion moves one; the local provider and TGI read them. They are
file-system facts, so serving finds the production versions without a database
query on every request (and from inside the graph's event loop).

An author's adapter is served under one name everywhere: ``author-<id>`` (the
local provider's PEFT adapter name, TGI's ``adapter_id``, vLLM's LoRA model name).
"""

import os
import shutil
import uuid
from pathlib import Path

POINTER_NAME = "production"
_AUTHOR_PREFIX = f"{POINTER_NAME}-author-"
ADAPTER_CONFIG = "adapter_config.json"


def pointer_name(author_id: int | None = None) -> str:
    return POINTER_NAME if author_id is None else f"{_AUTHOR_PREFIX}{int(author_id)}"


def adapter_name(author_id: int) -> str:
    """The name an author's production adapter is served under."""
    return f"author-{int(author_id)}"


def is_adapter_dir(path: Path) -> bool:
    """A PEFT adapter directory (adapter_config.json, no standalone config.json)."""
    path = Path(path)
    return (path / ADAPTER_CONFIG).is_file() and not (path / "config.json").is_file()


def production_model_path(models_dir: Path, author_id: int | None = None) -> Path | None:
    """The directory a pointer names (one link followed, so each version keeps its own path), or None."""
    pointer = Path(models_dir) / pointer_name(author_id)
    if not pointer.is_symlink():
        return pointer if pointer.is_dir() else None  # a copied directory also works
    target = pointer.parent / os.readlink(pointer)
    return target if target.is_dir() else None


def production_authors(models_dir: Path) -> dict[int, Path]:
    """Every author's production directory, by author id."""
    found: dict[int, Path] = {}
    for pointer in sorted(Path(models_dir).glob(f"{_AUTHOR_PREFIX}*")):
        suffix = pointer.name.removeprefix(_AUTHOR_PREFIX)
        if suffix.isdigit() and (target := production_model_path(models_dir, int(suffix))) is not None:
            found[int(suffix)] = target
    return found


def production_pointer_set(models_dir: Path, *, model_dir: Path, author_id: int | None = None) -> Path:
    """Point the author's (or all authors') pointer at model_dir, replacing the old link in one rename.

    The link is relative when the version lives under models_dir, so it resolves the same
    inside the TGI container, which mounts that folder elsewhere.
    """
    pointer = Path(models_dir) / pointer_name(author_id)
    pointer.parent.mkdir(parents=True, exist_ok=True)
    model_dir = Path(model_dir).absolute()
    models_dir = pointer.parent.absolute()
    target = os.path.relpath(model_dir, models_dir) if model_dir.is_relative_to(models_dir) else str(model_dir)
    staging = pointer.parent / f".{pointer.name}-{uuid.uuid4().hex[:8]}"
    os.symlink(target, staging)
    if pointer.is_dir() and not pointer.is_symlink():
        shutil.rmtree(pointer)
    os.replace(staging, pointer)
    return pointer
