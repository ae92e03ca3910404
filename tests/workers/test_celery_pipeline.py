"""The Celery path: a real worker on the real broker crawls, chunks and embeds a served blog."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from apps.documents.models import Chunk, Document
from apps.monitoring.metrics import metrics_exposition
from apps.sources.models import Source
from tests.factories import make_author
from tests.sources.blog import default_posts, write_blog
from twinsite.celery import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(transactional_db):
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TWINSITE_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
        "CRAWLER_ALLOWED_HOSTS": "127.0.0.1",
        "CRAWLER_HOST_INTERVAL_S": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "twinsite", "worker", "--queues", "celery,crawl,embed",
         "--concurrency", "1", "--hostname", name, "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "the worker did not come up"
    yield process
    process.terminate()
    process.wait(timeout=30)


def counted(name: str, **labels: str) -> float:
    """A counter as /metrics sums it over every process: the worker counted, this process reads."""
    samples = text_string_to_metric_families(metrics_exposition().decode())
    wanted = {(name, tuple(sorted(labels.items())))}
    return sum(s.value for f in samples for s in f.samples if (s.name, tuple(sorted(s.labels.items()))) in wanted)


def test_crawl_through_a_real_worker(worker, tmp_path, serve_dir, capsys):
    pages_before = {outcome: counted("twinsite_crawl_pages_total", outcome=outcome) for outcome in ("new", "unchanged")}
    folder = tmp_path / "blog"
    write_blog(folder, default_posts())
    base = serve_dir(folder)
    source = Source.objects.create(author=make_author(), kind="site", url=f"{base}/index.html")

    call_command("crawl", "--source", str(source.pk), "--json", "--timeout", "240")
    counts = json.loads(capsys.readouterr().out)
    assert (counts["status"], counts["fetched"], counts["new"], counts["failed"]) == ("succeeded", 4, 4, 0)
    assert Document.objects.filter(source=source, status="processed").count() == 4
    chunks = Chunk.objects.filter(document__source=source)
    assert chunks.exists() and not chunks.filter(embedding__isnull=True).exists()

    # A second run through the worker finds nothing new and embeds nothing.
    embedded_ids = set(chunks.values_list("pk", flat=True))
    call_command("crawl", "--source", str(source.pk), "--json", "--timeout", "120")
    counts = json.loads(capsys.readouterr().out)
    assert (counts["unchanged"], counts["new"], counts["changed"]) == (4, 0, 0)
    assert set(chunks.values_list("pk", flat=True)) == embedded_ids

    # Counted in the worker's process, summed by this one's /metrics.
    for outcome in ("new", "unchanged"):
        assert counted("twinsite_crawl_pages_total", outcome=outcome) - pages_before[outcome] == 4
    failures = {"task": "workers.crawl.crawl_source"}
    failures_before = counted("twinsite_task_failures_total", **failures)
    failed = app.send_task("workers.crawl.crawl_source", args=[987654321], queue="crawl")  # no such crawl run
    assert isinstance(failed.get(timeout=60, propagate=False), Exception)
    deadline = time.monotonic() + 10  # Celery stores the result before it signals the failure
    while counted("twinsite_task_failures_total", **failures) == failures_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counted("twinsite_task_failures_total", **failures) - failures_before == 1
