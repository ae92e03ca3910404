"""Counting tokens the way the embedding model sees them, so every chunk fits its window."""

import functools
import json
from pathlib import Path
from typing import Protocol

from lib.errors import TwinsiteError
from lib.packaged_models import packaged_minilm_path


class TokenCounter(Protocol):
    max_tokens: int  # the content tokens one embedding window holds, special tokens excluded

    def count(self, text: str) -> int: ...


class ModelTokenCounter:
    """Counts tokens as a sentence-transformers model sees them, without the special tokens it adds.

    Built from the model's own directory, so the chunker's budget follows the embedding model
    that is configured, not the packaged one.
    """

    def __init__(self, path: Path) -> None:
        from transformers import AutoTokenizer  # heavy import, paid only by code that counts tokens

        if not (Path(path) / "tokenizer.json").is_file():
            raise TwinsiteError(f"The embedding model's tokenizer is missing from {path}.")
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        specials = len(tokenizer("")["input_ids"])  # what the model adds around every text
        self.max_tokens = model_window(Path(path)) - specials
        # The Rust tokenizer itself: transformers' wrapper around it doubled the cost of chunking.
        # Without the truncation and padding to 128 that MiniLM's tokenizer.json sets: the wrapper
        # switches them off per call, a bare encode would apply them and count 128 for every line.
        self._tokenizer = tokenizer.backend_tokenizer
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count(self, text: str) -> int:
        # Tokenizers split on whitespace before anything else, so a text's count is the sum of its
        # lines' counts. Packing counts the same lines many times over: cache them.
        return sum(map(self._count_line, text.split("\n")))

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one counter per model and process
    def _count_line(self, line: str) -> int:
        return len(self._tokenizer.encode(line, add_special_tokens=False)) if line else 0


def model_window(path: Path) -> int:
    """The tokens a sentence-transformers model encodes at once (special tokens included)."""
    config = path / "sentence_bert_config.json"
    if config.is_file():
        window = json.loads(config.read_text()).get("max_seq_length")
        if isinstance(window, int) and window > 0:
            return window
    raise TwinsiteError(
        f"{path} has no sentence_bert_config.json with max_seq_length: is it a sentence-transformers model?"
    )


@functools.cache
def token_counter(path: Path | None = None) -> ModelTokenCounter:
    """One counter per model directory and process; None: the packaged all-MiniLM-L6-v2."""
    return ModelTokenCounter(Path(path) if path else packaged_minilm_path())
