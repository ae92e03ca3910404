"""Cross-encoder reranking: RERANKER_MODEL, else the model train_reranker registered, else none."""

import functools
import os
import uuid
from pathlib import Path

from django.conf import settings

from lib.errors import ConfigurationError
from lib.precision import autocast, precision_for


def registered_reranker_path() -> Path:
    """Where train_reranker puts the reranker it trained, for use when none is configured."""
    return Path(settings.MODEL_CACHE_DIR) / "reranker" / "current"


class Reranker:
    def __init__(self, path: Path, *, precision: str = "fp32") -> None:
        from sentence_transformers import CrossEncoder

        if not path.exists():
            raise ConfigurationError(f"the reranker model {path} does not exist")
        self.model = CrossEncoder(str(path), device="cpu", local_files_only=True)
        self.model_id = str(path)
        self.precision = precision  # "bf16" or "fp32", resolved

    def score(self, query: str, texts: list[str]) -> list[float]:
        """Relevance of each text to the query as a probability in [0, 1]."""
        if not texts:
            return []
        import torch

        with autocast(self.precision):
            scores = self.model.predict(
                [(query, text) for text in texts], activation_fn=torch.nn.Sigmoid(), show_progress_bar=False
            )
        return [float(score) for score in scores]


@functools.cache
def _load(path: str) -> Reranker:
    return Reranker(Path(path), precision=precision_for("cpu", settings.MODEL_PRECISION))


def reranker_register(*, model_dir: Path) -> Path:
    """Make ``model_dir`` the registered reranker, atomically; returns registered_reranker_path().

    ``current`` is a relative symlink, swapped with os.replace: a reader sees the old model or the new
    one, never neither. The loaded-model cache is cleared, so the next reranker_from_settings() loads it.
    """
    current = registered_reranker_path()
    model_dir = Path(model_dir).resolve()
    if not model_dir.is_dir():
        raise ConfigurationError(f"The reranker to register, {model_dir}, is not a directory.")
    if current.exists() and not current.is_symlink():
        raise ConfigurationError(f"{current} is a real directory, not a link; move it away to register a reranker.")
    current.parent.mkdir(parents=True, exist_ok=True)
    staged = current.with_name(f".current-{uuid.uuid4().hex}")
    staged.symlink_to(os.path.relpath(model_dir, current.parent))  # relative: the cache dir may be moved whole
    os.replace(staged, current)
    _load.cache_clear()
    return current


def reranker_from_settings() -> Reranker | None:
    if settings.RERANKER_MODEL:
        return _load(settings.RERANKER_MODEL)
    registered = registered_reranker_path()
    return _load(str(registered.resolve())) if registered.exists() else None
