"""Shared fixtures of the training and evaluation tests: the real packaged SmolLM2 and tiny export dirs."""

from pathlib import Path

import pytest

from tests.training.exports import instruct_rows, preference_rows, write_export


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """The packaged SmolLM2-135M-Instruct as a transformers directory, converted once per test session.

    It lives in the session's MODEL_CACHE_DIR, the same cache the RAG tests convert into,
    so a full run pays the ~20 s GGUF conversion once. Treat it as read-only.
    """
    from django.conf import settings

    from lib.packaged_models import packaged_model_dir

    return packaged_model_dir(Path(settings.MODEL_CACHE_DIR))


@pytest.fixture
def instruct_export(tmp_path) -> Path:
    """An instruct dataset version: 10 training rows and 2 test rows in one author's voice."""
    return write_export(tmp_path, "instruct", instruct_rows(0, 10), instruct_rows(10, 12))


@pytest.fixture
def preference_export(tmp_path) -> Path:
    """A preference dataset version: 10 training pairs and 2 test pairs (the author's answer chosen)."""
    return write_export(tmp_path, "preference", preference_rows(0, 10), preference_rows(10, 12))
