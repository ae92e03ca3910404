"""An export that meets a fault: the disk refuses its files, or PostgreSQL restarts as it commits.

export_dataset runs in a process of its own (tests/commands.py): under a file-size limit the kernel
refuses its writes, and its database connection goes through a proxy that can go through a restart
(tests/chat/dbproxy.py). Either way it must end with a clear error and leave no dataset version, no
files, and the next export must work.
"""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from apps.trainsets.models import DatasetVersion
from tests.chat.dbproxy import COMMIT, COMMITTED, postgres_proxy
from tests.commands import manage
from tests.registry.corpus import approved_corpus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def datasets_dir(settings, tmp_path, annotator) -> Path:
    """Six approved samples of Ada's to export, into DATASETS_DIR here and in the command's process."""
    approved_corpus(annotator=annotator, topics=6, pairs=0)
    settings.DATASETS_DIR = tmp_path / "datasets"
    return settings.DATASETS_DIR


def export(datasets_dir: Path, *, file_size_limit: int | None = None, **settings: str):
    return manage(
        "export_dataset",
        "--kind",
        "instruct",
        file_size_limit=file_size_limit,
        DATASETS_DIR=str(datasets_dir),
        **settings,
    )


def export_again(datasets_dir: Path) -> None:
    """The next export, in this process: it takes the number the failed one did not keep."""
    call_command("export_dataset", "--kind", "instruct", stdout=StringIO(), stderr=StringIO())
    assert DatasetVersion.objects.get().name == "instruct-v1"
    assert sorted(p.name for p in datasets_dir.iterdir()) == ["instruct-v1"]
    assert (datasets_dir / "instruct-v1" / "dataset.json").is_file()


def test_a_disk_that_refuses_the_export_is_a_clear_error_and_leaves_nothing_behind(datasets_dir):
    # The JSONL splits fit in 2 KB, the `datasets` copy does not: the export fails with part of its files written.
    failed = export(datasets_dir, file_size_limit=2048)

    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.splitlines()[-1] == (
        f"CommandError: Writing the dataset in {datasets_dir} failed: File too large. "
        "Nothing was kept; make room and export again."
    )
    assert not DatasetVersion.objects.exists()
    assert list(datasets_dir.iterdir()) == []  # the partly written staging directory is gone
    export_again(datasets_dir)


def test_postgresql_restarting_as_the_export_commits_leaves_no_version_and_no_files(datasets_dir):
    host, port = connection.settings_dict["HOST"], connection.settings_dict["PORT"] or 5432
    on_disk_at_restart: list[str] = []
    with postgres_proxy(Path(host) / f".s.PGSQL.{port}") as proxy:
        database_url = f"postgres://postgres@127.0.0.1:{proxy.port}/{connection.settings_dict['NAME']}"

        # The files are written and renamed into place; the COMMIT that would register them never arrives, and
        # the database is back a moment later: asked again, it has no such version.
        def then() -> None:
            on_disk_at_restart.extend(p.name for p in datasets_dir.iterdir())
            proxy.restore()

        proxy.restart_at(COMMIT, then=then)

        failed = export(datasets_dir, DATABASE_URL=database_url)

        assert on_disk_at_restart == ["instruct-v1"]
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        assert failed.stderr.splitlines()[-1] == (
            "CommandError: The database stopped answering during the export; nothing was saved. "
            "Export again once it is back."
        )
    assert not DatasetVersion.objects.exists()
    assert list(datasets_dir.iterdir()) == []
    export_again(datasets_dir)


def test_postgresql_restarting_after_the_export_committed_keeps_the_version_and_its_files(datasets_dir):
    host, port = connection.settings_dict["HOST"], connection.settings_dict["PORT"] or 5432
    with postgres_proxy(Path(host) / f".s.PGSQL.{port}") as proxy:
        database_url = f"postgres://postgres@127.0.0.1:{proxy.port}/{connection.settings_dict['NAME']}"
        # The server commits; its answer never reaches the export, and the database is back a moment later.
        proxy.restart_at(COMMITTED, from_server=True, then=proxy.restore)

        result = export(datasets_dir, DATABASE_URL=database_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Exported instruct-v1 to {datasets_dir / 'instruct-v1'}"
    version = DatasetVersion.objects.get()
    assert (version.name, version.path) == ("instruct-v1", str(datasets_dir / "instruct-v1"))
    assert sorted(p.name for p in datasets_dir.iterdir()) == ["instruct-v1"]  # the version's files, whole
    assert (datasets_dir / "instruct-v1" / "dataset.json").is_file()
