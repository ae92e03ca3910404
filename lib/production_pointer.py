"""The production pointer: MODELS_DIR/production, a symlink to the promoted version's directory.

Promotion moves it; the local provider and TGI (`--model-id /models/production`)
read it. It is a file-system fact, so serving finds the production model without
a database query on every request (and from inside the graph's event loop).
"""

import os
import shutil
import uuid
from pathlib import Path

POINTER_NAME = "production"


def production_model_path(models_dir: Path) -> Path | None:
    """The directory the pointer names (one link followed, so each version keeps its own path), or None."""
    pointer = Path(models_dir) / POINTER_NAME
    if not pointer.is_symlink():
        return pointer if pointer.is_dir() else None  # a copied directory also works
    target = pointer.parent / os.readlink(pointer)
    return target if target.is_dir() else None


def production_pointer_set(models_dir: Path, *, model_dir: Path) -> Path:
    """Point models_dir/production at model_dir, replacing the old link in one rename.

    The link is relative when the version lives under models_dir, so it resolves the same
    inside the TGI container, which mounts that folder elsewhere.
    """
    pointer = Path(models_dir) / POINTER_NAME
    pointer.parent.mkdir(parents=True, exist_ok=True)
    model_dir = Path(model_dir).absolute()
    models_dir = pointer.parent.absolute()
    target = os.path.relpath(model_dir, models_dir) if model_dir.is_relative_to(models_dir) else str(model_dir)
    staging = pointer.parent / f".{POINTER_NAME}-{uuid.uuid4().hex[:8]}"
    os.symlink(target, staging)
    if pointer.is_dir() and not pointer.is_symlink():
        shutil.rmtree(pointer)
    os.replace(staging, pointer)
    return pointer
