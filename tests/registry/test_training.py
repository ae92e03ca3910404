"""Training runs: bad input is refused naming the field; a run that fails is recorded and registers nothing."""

import pytest
from django.core.management import CommandError, call_command

from apps.registry.models import ModelVersion, RunStatus, TrainingRun
from apps.registry.services import training_run_create
from apps.trainsets.export.services import dataset_version_export
from tests.registry.corpus import approved_corpus
from workers.training import train_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def datasets(settings, tmp_path, annotator, models_dir):
    settings.DATASETS_DIR = tmp_path / "datasets"
    author = approved_corpus(annotator=annotator, topics=6, pairs=4)
    return {kind: dataset_version_export(kind=kind, author=author) for kind in ("instruct", "preference")}


def test_a_failed_run_is_recorded_with_its_error_and_registers_no_model(datasets, models_dir, tmp_path):
    not_a_model = tmp_path / "empty-base"
    not_a_model.mkdir()
    run = training_run_create(
        stage="sft", dataset_version=datasets["instruct"], base=str(not_a_model), options={"max_steps": 2}
    )

    result = train_model.apply(args=[run.pk]).get()  # the training queue's task, run in this process

    run.refresh_from_db()
    assert result == {"training_run": run.pk, "status": "failed", "model_version": None}
    assert run.status == RunStatus.FAILED and run.finished_at is not None
    assert str(not_a_model) in run.error
    assert "Traceback" in run.logs
    assert not ModelVersion.objects.exists()
    assert [p.name for p in models_dir.iterdir() if p.name != ".staging"] == []
    assert not any((models_dir / ".staging").iterdir())


def test_wrong_dataset_kind_unknown_option_and_missing_sft_base_are_named(datasets, tmp_path):
    config = tmp_path / "sft.yaml"
    config.write_text("lora_rank: 8\n")
    bad_type = tmp_path / "bad.yaml"
    bad_type.write_text("learning_rate: fast\n")

    with pytest.raises(CommandError, match="--dataset: preference-v1 is a preference dataset"):
        call_command("train", "--stage", "sft", "--dataset", "preference-v1")
    with pytest.raises(CommandError, match="--config: .*'lora_rank'"):
        call_command("train", "--stage", "sft", "--dataset", "instruct-v1", "--config", str(config))
    with pytest.raises(CommandError, match="--config: .*'learning_rate' must be float"):
        call_command("train", "--stage", "sft", "--dataset", "instruct-v1", "--config", str(bad_type))
    with pytest.raises(CommandError, match="--base: DPO starts from an SFT model"):
        call_command("train", "--stage", "dpo", "--dataset", "preference-v1")
    with pytest.raises(CommandError, match='--dataset: There is no dataset version "instruct-v9"'):
        call_command("train", "--stage", "sft", "--dataset", "instruct-v9")
    assert not TrainingRun.objects.exists()
