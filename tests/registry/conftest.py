"""Registry fixtures: a throw-away MODELS_DIR per test, model versions backed by the real packaged SmolLM2, and
two authors' LoRA adapters trained on it once per session."""

import json
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


# Each author's one sentence: three steps of SFT on it make a twin that answers with it.
STYLES = {"ada": "Arr matey, the sea decides.", "bob": "Quack quack, said the duck."}


def author_export(folder: Path, answer: str) -> Path:
    """An instruct export of two samples, both answered in the author's one sentence."""
    folder.mkdir(parents=True)
    questions = ["How do you name things?", "What is a good test?"]
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": answer}]} for q in questions]
    (folder / "train.jsonl").write_text("\n".join(json.dumps(row) for row in rows))
    (folder / "dataset.json").write_text(json.dumps({"kind": "instruct", "files": {"train": "train.jsonl"}}))
    return folder


@pytest.fixture(scope="session")
def adapters(tmp_path_factory, smollm2_dir) -> dict[str, Path]:
    """Each author's adapter, trained with the training package's own SFT (merge off, as for an author's run).
    Shared by every test that serves or trains on them: read-only."""
    from django.conf import settings

    from training.sft import SftConfig, run_sft

    root = tmp_path_factory.mktemp("twins")
    trained = {}
    for author, answer in STYLES.items():
        config = SftConfig(
            dataset_dir=author_export(root / f"data-{author}", answer),
            output_dir=root / f"adapter-{author}",
            merge=False,
            max_steps=3,
            learning_rate=5e-3,
            batch_size=2,
            max_length=64,
            lora_r=8,
            model_cache_dir=Path(settings.MODEL_CACHE_DIR),
        )
        trained[author] = run_sft(config).output_dir
    return trained
