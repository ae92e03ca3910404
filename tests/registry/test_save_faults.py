"""A model save that the disk refuses: the run fails with the reason, and no model version or directory is left.

`train` runs in a process of its own under a file-size limit (RLIMIT_FSIZE): the kernel refuses the write
that would make the trained model's weights file larger (EFBIG), as a full disk refuses one (ENOSPC).
"""

import pytest

from apps.registry.models import ModelVersion, RunStatus, TrainingRun
from apps.trainsets.export.services import dataset_version_export
from tests.commands import manage
from tests.registry.corpus import approved_corpus
from tests.registry.tiny_model import tiny_model_write

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_model_save_the_disk_refuses_fails_the_run_and_registers_nothing(settings, tmp_path, annotator):
    settings.DATASETS_DIR = tmp_path / "datasets"
    dataset_version_export(kind="instruct", author=approved_corpus(annotator=annotator, topics=6, pairs=0))
    base = tiny_model_write(tmp_path / "tiny-base")
    models_dir = tmp_path / "registry"

    result = manage(
        "train", "--stage", "sft", "--dataset", "instruct-v1", "--base", str(base), "--max-steps", "1",
        file_size_limit=16 * 1024, MODELS_DIR=str(models_dir),
    )  # fmt: skip

    run = TrainingRun.objects.get()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == f"CommandError: SFT run #{run.pk} failed: {run.error}"
    assert run.status == RunStatus.FAILED
    assert run.error == "SafetensorError: Error while serializing: I/O error: File too large (os error 27)"
    assert "in model_merge_and_save" in run.logs  # the traceback kept for the operator: it failed saving
    assert not ModelVersion.objects.exists()
    assert [p.name for p in models_dir.iterdir()] == [".staging"]
    assert list((models_dir / ".staging").iterdir()) == []  # the half-written weights are gone
