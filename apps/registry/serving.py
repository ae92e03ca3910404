"""The production pointers under settings.MODELS_DIR (lib.production_pointer does the file work)."""

from pathlib import Path

from django.conf import settings

from lib import production_pointer as pointer


def production_pointer(author_id: int | None = None) -> Path:
    return Path(settings.MODELS_DIR) / pointer.pointer_name(author_id)


def production_model_path(author_id: int | None = None) -> Path | None:
    return pointer.production_model_path(Path(settings.MODELS_DIR), author_id)


def production_pointer_set(*, model_dir: Path, author_id: int | None = None) -> Path:
    return pointer.production_pointer_set(Path(settings.MODELS_DIR), model_dir=model_dir, author_id=author_id)
