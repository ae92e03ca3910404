"""Faults of the task machinery, on a real worker, the real broker and the real database.

A worker's pool process is SIGKILLed mid-task (the OOM killer's way): each test holds the task at a
point it observes (a page being fetched, a batch waiting to be written, a model request in flight, a
training run's dataset lookup), kills the process running it, and checks what a curator then sees: the
task delivered again and finished with nothing twice, or the run failed with the reason. Then the broker
restarts under a queued task, the web app and beat.
"""

import itertools
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from apps.core import embedded
from apps.documents import embedding
from apps.documents.models import Chunk, Document
from apps.documents.services import document_process
from apps.registry.models import ModelVersion, RunStatus, TrainingRun
from apps.registry.services import training_run_create
from apps.sources.models import CrawlRun, Source
from apps.trainsets.generation import prompts
from apps.trainsets.generation.extracts import extracts_for
from apps.trainsets.models import DatasetVersion, GenerationRun, InstructionSample, PreferencePair
from tests.factories import make_author, make_document
from tests.serving import serving
from tests.sources.blog import default_posts, paragraphs, write_blog
from tests.trainsets.generation.corpus import make_corpus
from tests.workers.processes import (
    beat_start,
    broker,
    broker_drained,
    consume,
    kill_pool_child,
    queued,
    wait_for,
    worker_start,
    worker_stop,
)
from twinsite.celery import app

pytestmark = pytest.mark.django_db(transaction=True)

TWIN_SYSTEM = "You are the writing twin"  # how the pair step's request for a rejected answer begins


class Gate:
    """Holds the first request for one path until the test opens it: the worker is then known to be inside."""

    def __init__(self) -> None:
        self.reached, self.opened = threading.Event(), threading.Event()
        self.armed = True

    def hold(self) -> None:
        if self.armed:
            self.armed = False
            self.reached.set()
            self.opened.wait(timeout=60)


# Distinct answers in the author's subjects, so that no sample is dropped as a near-duplicate of another.
ANSWERS = [
    "I run the nightly dump against the replica so that nobody using the site ever feels the backup happening.",
    "The starter gets equal weights of rye flour and water each evening and has doubled by the next morning.",
    "Forty-eight hairpins on the eastern side took me a little under three hours with a compact crank.",
    "Compressing the dump with zstd keeps the copy small enough to ship to another region every single night.",
    "Salt goes in only after the dough has rested for an hour, which gives the flour time to drink the water.",
    "A generous cassette at the back matters more than strong legs when the road keeps climbing for hours.",
    "Restoring a backup once a month is the only way I trust that the nightly copies are any good at all.",
    "A warm kitchen shortens the rise considerably, so in winter I leave the bowl beside the radiator overnight.",
    "Descending the pass afterwards was colder than expected, and I was glad of the jacket in my back pocket.",
    "Object storage in a second region means a fire in one data centre cannot take both copies with it.",
]


class ModelServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint: a question for a passage (own_text), two instruction-answer pairs for
    one (generated), and a generic answer for the twin's turn (the rejected side of a preference pair)."""

    gate: Gate  # set by the test that holds a request
    replies = itertools.count()

    def log_message(self, format, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["messages"][0]["content"].startswith(TWIN_SYSTEM):
            self.gate.hold()
            text = "A generic answer to that."
        elif body["messages"][0]["content"] == prompts.OWN_TEXT_SYSTEM:
            text = "How do you do this every day?"
        else:
            n = next(self.replies)
            pairs = [{"instruction": f"Question {n}.{i}: how do you go about it?", "answer": ANSWERS[(2 * n + i) % 10]}
                     for i in range(2)]  # fmt: skip
            text = json.dumps({"pairs": pairs})
        reply = json.dumps({
            "id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 8, "total_tokens": 18},
        }).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


@pytest.fixture(scope="module")
def model_server():
    with serving(ModelServer) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def worker(django_db_setup, model_server, tmp_path_factory):
    """One worker for the module; the model it asks is the server above."""
    folder = tmp_path_factory.mktemp("worker")
    process = worker_start(
        database=connection.settings_dict["NAME"],
        log=folder / "worker.log",
        queues="celery,crawl,llm,training",  # embed: only while the embed test runs (no model load otherwise)
        env={
            "CRAWLER_ALLOWED_HOSTS": "127.0.0.1",
            "CRAWLER_HOST_INTERVAL_S": "0",
            "LLM_PROVIDER": "openai",
            "OPENAI_BASE_URL": f"{model_server}/v1",
            "MODELS_DIR": str(folder / "registry"),
        },
    )
    process.models_dir = folder / "registry"
    yield process
    worker_stop(process)


@pytest.fixture(autouse=True)
def _drained(worker):
    """Each test ends when the worker has nothing left to do: the follow-up tasks it queued (processing,
    index upkeep) would otherwise run into the next test, or into the tables being emptied."""
    yield
    wait_for(broker_drained, timeout=60, every=0.2)


def test_a_crawl_killed_mid_page_is_delivered_again_and_stores_each_page_once(worker, tmp_path):
    folder = tmp_path / "blog"
    write_blog(folder, default_posts())
    hour_ago = time.time() - 3600  # older than a second: Last-Modified is then a usable validator
    for page in folder.iterdir():
        os.utime(page, (hour_ago, hour_ago))
    gate = Gate()

    class Site(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format, *args) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/post-3.html":
                gate.hold()
            super().do_GET()

    with serving(Site) as base:
        source = Source.objects.create(author=make_author(), kind="site", url=f"{base}/index.html")
        run = CrawlRun.objects.create(source=source)
        app.send_task("workers.crawl.crawl_source", args=[run.pk])
        assert gate.reached.wait(timeout=60)  # the index and two posts are stored; the last is being fetched
        stored_before_kill = Document.objects.filter(source=source).count()
        kill_pool_child(worker)
        gate.opened.set()
        wait_for(lambda: CrawlRun.objects.get(pk=run.pk).is_finished, timeout=60)
    broker().delete("embed")  # the processing it queued: chunks and embedding are the next test's

    run.refresh_from_db()
    assert stored_before_kill == 3
    assert (run.status, run.attempts) == ("succeeded", 2)
    assert run.counts() == {"fetched": 1, "new": 4, "changed": 0, "unchanged": 0, "failed": 0, "skipped": 0,
                            "not_modified": 3}  # fmt: skip
    documents = Document.objects.filter(source=source)
    assert sorted(documents.values_list("url", flat=True)) == sorted(
        f"{base}/{page}" for page in ("index.html", "post-1.html", "post-2.html", "post-3.html")
    )


def test_an_embed_batch_killed_before_it_is_written_is_embedded_by_the_next_delivery(worker):
    source = Source.objects.create(author=make_author(), kind="article", url="https://blog.example/embed")
    for n in range(3):
        document = make_document(source=source, text="\n\n".join(paragraphs(n)))
        document_process(document_id=document.pk)
    chunks = Chunk.objects.filter(document__source=source)
    chunk_ids = sorted(chunks.values_list("pk", flat=True))
    assert len(chunk_ids) == 18

    consume(worker, "embed", start=True)
    # The batch's UPDATE waits for this lock: the worker has locked and encoded its batch, not written it.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {Chunk._meta.db_table} IN SHARE MODE")
        app.send_task("workers.process.embed_chunks")
        backend = wait_for(lambda: _waiting(cursor, f"UPDATE {Chunk._meta.db_table} %"), timeout=60)
        kill_pool_child(worker)
        # PostgreSQL ends a dead client's session when it next reads from it; this one waits on our lock.
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    wait_for(lambda: not chunks.filter(embedding__isnull=True).exists(), timeout=60)
    wait_for(broker_drained, timeout=60, every=0.2)
    consume(worker, "embed", start=False)

    assert sorted(chunks.values_list("pk", flat=True)) == chunk_ids  # the same chunks, none added
    assert set(chunks.values_list("embedding_model", flat=True)) == {embedding.model_id()}


def _waiting(cursor, query: str) -> int | None:
    """The database session waiting on a lock to run a query LIKE ``query``."""
    cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees its first look at the activity
    cursor.execute("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s", [query])
    row = cursor.fetchone()
    return row[0] if row else None


def test_a_generation_killed_while_storing_an_extract_resumes_with_every_sample_of_it_once(worker):
    documents = make_corpus()  # three passages, one extract each
    first = next(extracts_for())
    options = {"mode": "generated", "samples_per_extract": 2, "pairs": False, "provider": "openai"}
    run = GenerationRun.objects.create(options=options)

    # The first extract's second sample waits on the row this transaction holds: the worker is killed there.
    with transaction.atomic(), connection.cursor() as cursor:
        InstructionSample.objects.create(
            author=documents[0].author, document_id=first.document_id, extract_hash=first.hash, ordinal=1,
            mode="generated", extract=first.text, instruction="held", answer="held",
        )  # fmt: skip
        app.send_task("workers.datasets.generate_datasets", args=[run.pk])
        backend = wait_for(lambda: _waiting(cursor, f'INSERT INTO "{InstructionSample._meta.db_table}"%'), timeout=60)
        kill_pool_child(worker)
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        transaction.set_rollback(True)
    wait_for(lambda: GenerationRun.objects.get(pk=run.pk).status == "succeeded", timeout=60)

    run.refresh_from_db()
    samples = InstructionSample.objects.filter(generation_run=run)
    per_extract = samples.values_list("document_id").annotate(Count("pk")).values_list("pk__count", flat=True)
    assert sorted(per_extract) == [2, 2, 2]  # the first extract complete too, nothing twice
    assert (run.samples_created, run.extracts_done, run.dropped) == (6, 3, {})


def test_a_generation_killed_mid_pair_resumes_and_counts_each_sample_once(worker):
    make_corpus()  # three passages, one extract each: one sample each, in the author's own words
    run = GenerationRun.objects.create(options={"provider": "openai"})
    ModelServer.gate = gate = Gate()
    app.send_task("workers.datasets.generate_datasets", args=[run.pk])
    assert gate.reached.wait(timeout=60)  # the first extract's sample is stored; its pair is being written
    kill_pool_child(worker)
    gate.opened.set()
    wait_for(lambda: GenerationRun.objects.get(pk=run.pk).status == "succeeded", timeout=60)

    run.refresh_from_db()
    samples = InstructionSample.objects.filter(generation_run=run)
    pairs = PreferencePair.objects.filter(generation_run=run)
    assert (samples.count(), pairs.count(), len(set(pairs.values_list("sample_id", flat=True)))) == (3, 3, 3)
    assert (run.samples_created, run.pairs_created, run.extracts_done, run.dropped) == (3, 3, 3, {})


def test_a_training_run_killed_while_running_ends_failed_with_the_reason_and_registers_nothing(worker, tmp_path):
    # Never read: the run is killed on its way to it.
    dataset = DatasetVersion.objects.create(kind="instruct", number=1, path=str(tmp_path / "export"))
    run = training_run_create(stage="sft", dataset_version=dataset, base=str(tmp_path), options={"max_steps": 2})
    datasets_table = TrainingRun.dataset_versions.through._meta.db_table

    # The run is marked running, then looks up its dataset: held there by this lock, it is killed.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {datasets_table} IN ACCESS EXCLUSIVE MODE")
        app.send_task("workers.training.train_model", args=[run.pk])
        backend = wait_for(lambda: _waiting(cursor, f'%JOIN "{datasets_table}"%'), timeout=60)
        assert TrainingRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
        kill_pool_child(worker)
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    wait_for(lambda: TrainingRun.objects.get(pk=run.pk).is_finished, timeout=30)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("WorkerLostError: Worker exited prematurely: signal 9 (SIGKILL)"), run.error
    assert not ModelVersion.objects.exists()


def test_a_broker_restart_loses_no_queued_task_and_the_app_and_beat_carry_on(worker, client, tmp_path, serve_dir):
    folder = tmp_path / "blog"
    write_blog(folder, default_posts())
    source = Source.objects.create(author=make_author(), kind="site", url=f"{serve_dir(folder)}/index.html")
    run = CrawlRun.objects.create(source=source)
    data_dir = Path(settings.DATA_DIR)
    beat = beat_start(
        database=connection.settings_dict["NAME"], log=tmp_path / "beat.log", env={"NOTICE_CHECK_INTERVAL_S": "1"}
    )
    # Beat's checks and the crawl wait on their queues while the broker restarts: nothing takes them.
    consume(worker, "celery", start=False)
    consume(worker, "crawl", start=False)
    try:
        wait_for(lambda: queued("celery") >= 1, timeout=60)  # beat is sending its every-second check
        app.send_task("workers.crawl.crawl_source", args=[run.pk])
        assert queued("crawl") == 1
        embedded.redis_stop(data_dir)
        during = client.get("/healthz")
        assert embedded.redis_start(data_dir) == settings.REDIS_URL  # back where every process looks for it
        after_restart = (queued("crawl"), queued("celery"))
        wait_for(lambda: queued("celery") > after_restart[1], timeout=30)  # beat sends again
        consume(worker, "crawl", start=True)
        wait_for(lambda: CrawlRun.objects.get(pk=run.pk).is_finished, timeout=60)
        after = client.get("/healthz")
    finally:
        beat.terminate()
        beat.wait(timeout=30)
        broker().delete("celery", "embed")  # beat's checks; the processing the crawl queued (not consumed here)
        consume(worker, "celery", start=True)

    assert (during.status_code, during.json()["checks"]["broker"]) == (503, {"up": False})
    assert after_restart[0] == 1  # the queued crawl survived the restart
    run.refresh_from_db()
    assert (run.status, run.attempts, run.documents_new) == ("succeeded", 1, 4)
    assert (after.status_code, after.json()["status"]) == (200, "ok")  # the same app, the worker reconnected
