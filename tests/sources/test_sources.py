"""Adding sources, their beat schedules kept in sync, and the admin's crawl action."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from apps.sources.crawlers import guess_kind
from apps.sources.models import Author, CrawlRun, Source
from apps.sources.services import source_create
from lib.errors import TwinsiteError
from tests.factories import make_author
from twinsite.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://ada.example/posts/on-twins", "article"),
        ("https://ada.example/feed/", "feed"),
        ("https://ada.example/index.xml", "feed"),
        ("https://ada.example/sitemap.xml", "sitemap"),
        ("https://ada.example/sitemap-posts.xml.gz", "sitemap"),
        ("https://github.com/ada/engine", "github"),
        ("https://git.example.org/ada/engine.git", "github"),
        ("mongodb://localhost:27017/twin", "warehouse"),
        ("/srv/imports/medium-export.zip", "export"),
    ],
)
def test_kind_is_guessed_from_the_url(url, kind):
    assert guess_kind(url) == kind


def test_add_source_prints_the_new_id_and_creates_the_author_once(capsys):
    call_command("add_source", "--author", "Ada Example", "--url", "https://ada.example/feed/")
    source_id = int(capsys.readouterr().out.strip())
    source = Source.objects.get(pk=source_id)
    assert (source.kind, source.author.name) == ("feed", "Ada Example")

    call_command("add_source", "--author", "ada example", "--url", "https://ada.example/about", "--kind", "site")
    assert Author.objects.count() == 1
    assert Source.objects.get(pk=int(capsys.readouterr().out.strip())).kind == "site"


def test_add_source_rejects_a_bad_schedule_naming_it():
    with pytest.raises(CommandError, match="schedule: cron hour"):
        call_command("add_source", "--author", "Ada", "--url", "https://ada.example/", "--schedule", "0 25 * * *")
    assert not Source.objects.exists()


def test_local_paths_outside_the_import_folders_are_refused(settings, tmp_path):
    settings.IMPORT_ROOTS = [tmp_path / "imports"]
    with pytest.raises(TwinsiteError, match="outside the import folders"):
        source_create(author=make_author(), url="/etc", kind="export")
    with pytest.raises(TwinsiteError, match="file: URLs"):
        source_create(author=make_author(), url="file:///etc/passwd", kind="article")
    (tmp_path / "imports").mkdir()
    assert source_create(author=make_author(), url=str(tmp_path / "imports"), kind="export").pk


def _beat_entry(scheduler: DatabaseScheduler, source: Source):
    return scheduler.schedule.get(f"Crawl source #{source.pk}")


@pytest.mark.django_db(transaction=True)  # the scheduler closes and reopens connections, as in beat
def test_schedule_becomes_a_beat_task_and_edits_reach_a_running_scheduler(client, curator):
    # Every hour: beat only loads crontab tasks due within the hour, and this test runs at any hour.
    source = source_create(author=make_author(), url="https://ada.example/feed/", schedule="0 * * * *")
    task = PeriodicTask.objects.get(name=f"Crawl source #{source.pk}")
    assert (task.task, task.queue, json.loads(task.kwargs)) == (
        "workers.crawl.crawl_source_scheduled",
        "crawl",
        {"source_id": source.pk},
    )
    scheduler = DatabaseScheduler(app=celery_app)  # as beat holds it while running
    assert _beat_entry(scheduler, source).schedule.minute == {0}

    client.force_login(curator)
    form = {
        "author": source.author_id,
        "kind": "feed",
        "url": source.url,
        "options": "{}",
        "active": "on",
        "schedule": "30 * * * 1",
        "crawl_runs-TOTAL_FORMS": "0",
        "crawl_runs-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:sources_source_change", args=[source.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = _beat_entry(scheduler, source)  # beat's next tick reads the changed schedule
    assert (entry.schedule.minute, entry.schedule.day_of_week) == ({30}, {1})

    form.pop("active")  # deactivating the source stops its schedule
    client.post(reverse("admin:sources_source_change", args=[source.pk]), form)
    assert not PeriodicTask.objects.filter(name=f"Crawl source #{source.pk}").exists()


def test_deleting_a_source_removes_its_schedule():
    source = source_create(author=make_author(), url="https://ada.example/feed/", schedule="0 3 * * *")
    from apps.sources.services import source_delete

    source_delete(source=source)
    assert not PeriodicTask.objects.exists()


def test_crawl_now_queues_a_run_per_source(client, curator, django_capture_on_commit_callbacks):
    sources = [source_create(author=make_author(), url=f"https://ada.example/{n}") for n in range(2)]
    client.force_login(curator)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("admin:sources_source_changelist"),
            {"action": "crawl_now", "_selected_action": [s.pk for s in sources]},
            follow=True,
        )
    assert "Queued 2 crawl(s)" in response.content.decode()
    assert CrawlRun.objects.filter(status="queued").count() == 2
    assert len(callbacks) == 2  # one task sent per run, once the runs are committed
    assert set(Source.objects.values_list("last_crawl_status", flat=True)) == {"queued"}
