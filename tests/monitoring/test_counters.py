"""Counters and histograms that every process counts (lib.telemetry.metrics), summed by /metrics; and the
gauges of the service's state read at scrape time (apps.monitoring.operations)."""

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from apps.chat.keys import api_key_create
from apps.documents.models import Chunk
from apps.monitoring.metrics import metrics_exposition
from apps.rag.providers import ChatMessage, GenerationParams, ProviderUnavailable
from apps.rag.providers.openai_compatible import OpenAICompatibleProvider
from apps.sources.models import CrawlRun
from lib.production_pointer import production_pointer_set
from lib.telemetry.metrics import live_collector
from tests.factories import make_chunk, make_source
from tests.rag.servers import unused_url
from tests.sources.blog import run_once, write_blog
from workers.crawl import crawl_source

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db

WRITER = """
import sys
from pathlib import Path
from lib.telemetry.metrics import CRAWL_PAGES, GRAPH_NODE_DURATION, use_multiprocess_dir
use_multiprocess_dir(Path(sys.argv[1]))
CRAWL_PAGES.labels("new").inc(int(sys.argv[2]))
for seconds in sys.argv[3:]:
    GRAPH_NODE_DURATION.labels("retrieve").observe(float(seconds))
"""


def samples(exposition: bytes) -> dict[tuple, float]:
    """Every sample of a text exposition, keyed by (name, sorted label pairs)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition.decode())
        for sample in family.samples
    }


def scrape() -> dict[tuple, float]:
    return samples(metrics_exposition())


def count(scraped: dict[tuple, float], name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def test_counts_of_processes_that_share_the_directory_add_up_and_outlive_them(tmp_path):
    def write(*args: str) -> subprocess.Popen:
        command = [sys.executable, "-c", textwrap.dedent(WRITER), str(tmp_path), *args]
        return subprocess.Popen(command, cwd=ROOT)

    # Two processes at once, as two uvicorn workers or a web and a Celery worker.
    writers = [write("3", "0.02", "0.3"), write("4", "7.0")]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(live_collector(tmp_path))
    first = samples(generate_latest(registry))
    assert count(first, "twinsite_crawl_pages_total", outcome="new") == 7
    node = {"node": "retrieve"}
    assert count(first, "twinsite_graph_node_duration_seconds_count", **node) == 3
    assert count(first, "twinsite_graph_node_duration_seconds_sum", **node) == pytest.approx(7.32)
    assert count(first, "twinsite_graph_node_duration_seconds_bucket", **node, le="0.025") == 1
    assert count(first, "twinsite_graph_node_duration_seconds_bucket", **node, le="0.5") == 2
    assert count(first, "twinsite_graph_node_duration_seconds_bucket", **node, le="10.0") == 3

    assert write("2").wait(timeout=60) == 0  # a process started later adds to what the gone ones counted
    assert count(samples(generate_latest(registry)), "twinsite_crawl_pages_total", outcome="new") == 9


def test_api_responses_are_counted_by_route_pattern_and_status_and_throttles_by_scope(
    client, monkeypatch, settings, django_user_model
):
    from apps.chat.throttles import UserRateThrottle

    settings.METRICS_TOKEN = "scrape-token"
    owner = django_user_model.objects.create_user(username="counted", password="pw-counted-1")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=owner, name='counted')[1]}")
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "api": "3/min"})
    before = scrape()

    api.get("/api/v1/conversations/00000000-0000-0000-0000-000000000000")  # the first of the three allowed
    statuses = [api.get("/api/v1/authors").status_code for _ in range(3)]
    api.get("/api/v1/no-such-thing")
    api.get("/static/no-such-file.css")
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token")

    assert statuses == [200, 200, 429] and response.status_code == 200
    after = samples(response.content)
    authors = {"route": "api/v1/authors", "method": "GET"}
    conversation = {"route": "api/v1/conversations/<uuid:conversation_id>", "method": "GET", "status": "404"}
    for name, labels, added in [
        ("twinsite_http_requests_total", {**authors, "status": "200"}, 2),
        ("twinsite_http_requests_total", {**authors, "status": "429"}, 1),
        ("twinsite_http_requests_total", conversation, 1),
        ("twinsite_http_requests_total", {"route": "unmatched", "method": "GET", "status": "404"}, 1),
        ("twinsite_http_requests_total", {"route": "static", "method": "GET", "status": "404"}, 1),
        ("twinsite_http_request_duration_seconds_count", authors, 3),
        ("twinsite_throttled_requests_total", {"scope": "api"}, 1),
    ]:
        assert count(after, name, **labels) - count(before, name, **labels) == added, (name, labels)


def test_provider_calls_and_errors_are_counted_by_provider_and_reason():
    provider = OpenAICompatibleProvider(f"{unused_url()}/v1", api_key="", model="twin", timeout_s=2)
    before = scrape()

    with pytest.raises(ProviderUnavailable):
        provider.generate([ChatMessage("user", "Hello?")], GenerationParams(max_tokens=4))
    with pytest.raises(ProviderUnavailable):
        list(provider.stream([ChatMessage("user", "Hello?")], GenerationParams(max_tokens=4)))

    after = scrape()
    calls = ("twinsite_provider_calls_total", {"provider": "openai"})
    errors = ("twinsite_provider_errors_total", {"provider": "openai", "reason": "unavailable"})
    for name, labels in (calls, errors):
        assert count(after, name, **labels) - count(before, name, **labels) == 2


def test_crawl_pages_by_outcome_runs_by_status_and_sources_failing_in_a_row(tmp_path, serve_dir, crawl_settings):
    folder = tmp_path / "site"
    write_blog(folder, {"one": ("Post one", ["First paragraph."]), "two": ("Post two", ["Second paragraph."])})
    working = make_source(kind="site", url=f"{serve_dir(folder)}/index.html")
    broken = make_source(kind="site", url=f"{unused_url()}/index.html")
    before = scrape()

    assert run_once(working).status == CrawlRun.Status.SUCCEEDED
    assert run_once(working).status == CrawlRun.Status.SUCCEEDED
    assert [run_once(broken).status for _ in range(3)] == [CrawlRun.Status.FAILED] * 3

    after = scrape()
    for name, labels, added in [
        ("twinsite_crawl_pages_total", {"outcome": "new"}, 3),  # the index page and the two posts
        ("twinsite_crawl_pages_total", {"outcome": "unchanged"}, 3),
        ("twinsite_crawl_runs_finished_total", {"status": "succeeded"}, 2),
        ("twinsite_crawl_runs_finished_total", {"status": "failed"}, 3),
    ]:
        assert count(after, name, **labels) - count(before, name, **labels) == added, (name, labels)
    failing = {labels: value for (name, labels), value in after.items() if name.endswith("failures_in_a_row")}
    assert failing == {(("source_id", str(broken.pk)),): 3}


def test_a_task_that_fails_is_counted_under_its_name():
    before = scrape()
    result = crawl_source.apply(args=[987654321], throw=False)  # no such crawl run
    assert result.failed()
    added = count(scrape(), "twinsite_task_failures_total", task="workers.crawl.crawl_source") - count(
        before, "twinsite_task_failures_total", task="workers.crawl.crawl_source"
    )
    assert added == 1


def test_queue_depth_embedding_lag_and_the_production_model_are_read_at_scrape_time(settings, tmp_path):
    settings.WORKER_QUEUES = ["twinsite-test-embed"]
    settings.MODELS_DIR = tmp_path / "registry"
    (settings.MODELS_DIR / "dpo-v7").mkdir(parents=True)
    production_pointer_set(settings.MODELS_DIR, model_dir=settings.MODELS_DIR / "dpo-v7")
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.rpush("twinsite-test-embed", "a", "b", "c")
    broker.rpush("twinsite-test-embed\x06\x163", "d")
    waiting = make_chunk()
    Chunk.objects.filter(pk=waiting.pk).update(embedding=None, created_at=timezone.now() - timedelta(minutes=10))
    try:
        scraped = scrape()
    finally:
        broker.delete("twinsite-test-embed", "twinsite-test-embed\x06\x163")

    assert count(scraped, "twinsite_broker_up") == 1
    assert count(scraped, "twinsite_queue_length", queue="twinsite-test-embed") == 4
    assert 600 <= count(scraped, "twinsite_embedding_lag_seconds") < 660
    assert count(scraped, "twinsite_model_production_info", version="dpo-v7", provider="local") == 1
