"""Registry fixtures: a throw-away MODELS_DIR per test, and model versions backed by the real packaged SmolLM2."""

import os
from pathlib import Path

import pytest

from apps.registry.models import ModelVersion


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """The packaged SmolLM2-135M-Instruct, converted once into the session's model cache (shared with tests/rag)."""
    from django.conf import settings

    from lib.packaged_models import packaged_model_dir

    return packaged_model_dir(Path(settings.MODEL_CACHE_DIR))


@pytest.fixture
def models_dir(settings, tmp_path) -> Path:
    settings.MODELS_DIR = tmp_path / "registry"
    settings.MODELS_DIR.mkdir()
    return settings.MODELS_DIR


@pytest.fixture
def make_version(models_dir, request):
    """A registered version with a directory under MODELS_DIR.

    real=True links it to the real SmolLM2 directory (for serving); otherwise it holds only a
    config.json, enough for the registry, which never loads the weights.
    """

    def make(name: str, *, evaluation: dict | None = None, real: bool = False, **fields) -> ModelVersion:
        path = models_dir / name
        if real:
            os.symlink(request.getfixturevalue("smollm2_dir"), path)
        else:
            path.mkdir()
            (path / "config.json").write_text('{"model_type": "llama"}')
        metrics = {"evaluation": evaluation} if evaluation else {}
        return ModelVersion.objects.create(name=name, path=str(path), metrics=metrics, **fields)

    return make
