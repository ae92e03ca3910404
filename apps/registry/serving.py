"""The production pointer under settings.MODELS_DIR (lib.production_pointer does the file work)."""

from pathlib import Path

from django.conf import settings

from lib import production_pointer as pointer


def production_pointer() -> Path:
    return Path(settings.MODELS_DIR) / pointer.POINTER_NAME


def production_model_path() -> Path | None:
    return pointer.production_model_path(Path(settings.MODELS_DIR))


def production_pointer_set(*, model_dir: Path) -> Path:
    return pointer.production_pointer_set(Path(settings.MODELS_DIR), model_dir=model_dir)
