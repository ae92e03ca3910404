"""A model save that fails: the run fails with the reason, and no model version or version directory is left.

`train` runs in a process of its own under a file-size limit (RLIMIT_FSIZE): the kernel refuses the write
that would make the trained model's weights file larger (EFBIG), as a full disk refuses one (ENOSPC).
The registration of a trained directory meets PostgreSQL restarting at its commit (tests/chat/dbproxy.py):
before the server gets the COMMIT, or after it committed and before the registry heard so.
"""

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import InterfaceError, OperationalError, connection

from apps.registry.models import ModelVersion, RunStatus, TrainingRun
from apps.registry.services.registration import model_version_register, staging_dir
from apps.trainsets.export.services import dataset_version_export
from tests.chat.dbproxy import COMMIT, COMMITTED, connected_through, postgres_proxy
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


@pytest.fixture
def trained(models_dir) -> tuple[TrainingRun, SimpleNamespace]:
    """A run whose training finished: its model in the run's staging directory, the result training returns."""
    run = TrainingRun.objects.create(stage=TrainingRun.Stage.SFT, base_model="tiny-base")
    staging_dir(run).mkdir(parents=True)
    (staging_dir(run) / "config.json").write_text('{"model_type": "llama"}')
    result = SimpleNamespace(
        output_dir=staging_dir(run), base_model="tiny-base", first_loss=2.0, final_loss=1.5, steps=1, runtime_s=0.5,
        loss_curve=[], config={},
    )  # fmt: skip
    return run, result


def register_through_a_restart(run, result, message: bytes, *, from_server: bool) -> tuple[list[str], object]:
    """Register with this test's connection through the proxy, restarted (and back at once) at message.

    Returns what MODELS_DIR held at the restart, and the version registered or the error raised.
    """
    host, port = connection.settings_dict["HOST"], connection.settings_dict["PORT"] or 5432
    on_disk: list[str] = []
    with postgres_proxy(Path(host) / f".s.PGSQL.{port}") as proxy, connected_through(proxy):

        def then() -> None:
            on_disk.extend(sorted(p.name for p in Path(result.output_dir).parents[1].iterdir()))
            proxy.restore()

        proxy.restart_at(message, from_server=from_server, then=then)
        try:
            return on_disk, model_version_register(run=run, result=result, managed_fields=set())
        except (OperationalError, InterfaceError) as exc:
            return on_disk, exc


def test_a_registration_whose_commit_postgresql_never_gets_leaves_the_model_unregistered_in_staging(
    trained, models_dir
):
    run, result = trained
    # Renamed to its version name, row written: the COMMIT that would register it never arrives.
    on_disk, outcome = register_through_a_restart(run, result, COMMIT, from_server=False)

    assert on_disk == [".staging", "sft-v1"]
    assert isinstance(outcome, OperationalError | InterfaceError)
    assert not ModelVersion.objects.exists()
    assert [p.name for p in models_dir.iterdir()] == [".staging"]  # no version directory the registry does not know
    assert (staging_dir(run) / "config.json").is_file()  # back in staging, where the run's failure removes it
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED


def test_a_registration_postgresql_committed_before_it_went_away_keeps_the_version_and_its_directory(
    trained, models_dir
):
    run, result = trained
    # The server commits; its answer never arrives. Asked again once it is back, it has the version.
    on_disk, outcome = register_through_a_restart(run, result, COMMITTED, from_server=True)

    assert on_disk == [".staging", "sft-v1"]
    version = ModelVersion.objects.get()
    assert outcome == version and (version.name, version.path) == ("sft-v1", str(models_dir / "sft-v1"))
    assert (models_dir / "sft-v1" / "config.json").is_file()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


def test_a_registration_whose_row_postgresql_never_gets_leaves_the_model_unregistered_in_staging(trained, models_dir):
    run, result = trained
    # Renamed to its version name; the INSERT of its row is the statement the database goes away at.
    insert = b'INSERT INTO "registry_modelversion"'
    on_disk, outcome = register_through_a_restart(run, result, insert, from_server=False)

    assert on_disk == [".staging", "sft-v1"]
    assert isinstance(outcome, OperationalError | InterfaceError)  # the database's error, not one of ours on top
    assert not ModelVersion.objects.exists()
    assert [p.name for p in models_dir.iterdir()] == [".staging"]
    assert (staging_dir(run) / "config.json").is_file()
