"""GET /metrics: Prometheus text that a scraper parses, with values read from the database; not open to the world."""

import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from apps.sources.models import CrawlRun
from tests.factories import make_chunk, make_document, make_source
from tests.monitoring.traces import record_request, record_traffic

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"
TOKEN = "s3cret-scrape-token"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client, **extra) -> dict:
    extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {TOKEN}")
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def values(family, **labels) -> dict[tuple, float]:
    """Sample values keyed by (sample name, the labels that are not given), for samples matching labels."""
    return {
        (s.name, *(v for k, v in sorted(s.labels.items()) if k not in labels)): s.value
        for s in family.samples
        if all(s.labels.get(k) == v for k, v in labels.items())
    }


def test_request_metrics_count_the_last_24_hours_by_kind_and_status(client):
    traces = record_traffic()
    day = [t for t in traces if t.created_at >= timezone.now() - timedelta(hours=24)]
    families = scrape(client)

    requests = families["twinsite_requests_24h"]
    assert requests.type == "gauge"
    for kind in ("ask", "chat", "search"):
        for status in ("ok", "error"):
            expected = sum(1 for t in day if t.kind == kind and t.status == status)
            got = values(requests, kind=kind, status=status)
            assert got.get(("twinsite_requests_24h",), 0) == expected, (kind, status)
    assert sum(s.value for s in requests.samples) == len(day) < len(traces)

    errors = families["twinsite_request_errors_24h"]
    assert {s.labels["kind"]: s.value for s in errors.samples} == {
        kind: sum(1 for t in day if t.kind == kind and t.status == "error") for kind in ("ask", "chat", "search")
    }
    tokens = families["twinsite_tokens_24h"]
    for token_type, field in (("prompt", "prompt_tokens"), ("completion", "completion_tokens")):
        total = sum(s.value for s in tokens.samples if s.labels["type"] == token_type)
        assert total == sum(getattr(t, field) or 0 for t in day) > 0


def test_latency_histograms_per_request_and_per_node(client):
    traces = record_traffic()
    day = [t for t in traces if t.created_at >= timezone.now() - timedelta(hours=24)]
    families = scrape(client)

    duration = families["twinsite_request_duration_24h_seconds"]
    assert duration.type == "histogram"
    chats = [t.total_ms for t in day if t.kind == "chat"]
    buckets = values(duration, kind="chat")
    assert buckets[("twinsite_request_duration_24h_seconds_bucket", "1.0")] == sum(ms <= 1000 for ms in chats)
    assert buckets[("twinsite_request_duration_24h_seconds_bucket", "5.0")] == sum(ms <= 5000 for ms in chats)
    assert buckets[("twinsite_request_duration_24h_seconds_bucket", "+Inf")] == len(chats)
    gsum = families["twinsite_request_duration_24h_seconds_gsum"]
    assert values(gsum, kind="chat")[("twinsite_request_duration_24h_seconds_gsum",)] == pytest.approx(
        sum(chats) / 1000
    )

    node = families["twinsite_node_duration_24h_seconds"]
    generate = [s.duration_ms for t in day for s in t.spans.all() if s.node == "generate"]
    buckets = values(node, node="generate")
    assert buckets[("twinsite_node_duration_24h_seconds_bucket", "0.5")] == sum(ms <= 500 for ms in generate)
    assert buckets[("twinsite_node_duration_24h_seconds_bucket", "+Inf")] == len(generate) > 0
    assert {s.labels["node"] for s in node.samples} == {
        "rewrite",
        "self_query",
        "retrieve",
        "rerank",
        "generate",
        "postprocess",
    }


def test_pipeline_backlog_of_crawl_and_embed_work(client):
    source = make_source()
    pending = [make_document(source=source) for _ in range(3)]
    done = make_document(source=source, status="processed")
    make_chunk(document=done, embedding=[0.1] * 384, embedding_model="sentence-transformers/all-MiniLM-L6-v2")
    for _ in range(2):
        make_chunk(document=done)  # chunked, not yet embedded
    for status in ("queued", "running", "succeeded", "succeeded", "failed"):
        CrawlRun.objects.create(source=source, status=status)
    families = scrape(client)

    assert families["twinsite_documents_pending"].samples[0].value == len(pending)
    assert families["twinsite_chunks_unembedded"].samples[0].value == 2
    runs = {s.labels["status"]: s.value for s in families["twinsite_crawl_runs"].samples}
    assert runs == {"queued": 1, "running": 1, "succeeded": 2, "partial": 0, "failed": 1}


def test_empty_database_scrapes_cleanly(client):
    families = scrape(client)
    assert families["twinsite_requests_24h"].samples == []
    assert families["twinsite_documents_pending"].samples[0].value == 0


def test_metrics_need_the_token(client, settings):
    record_request(node_ms={"retrieve": 20.0})

    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden" and response.json()["error"]["message"]
    assert b"twinsite_" not in response.content
    wrong = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer not-the-token")
    assert wrong.status_code == 403

    families = scrape(client, REMOTE_ADDR=OUTSIDE)
    assert sum(s.value for s in families["twinsite_requests_24h"].samples) == 1
    # A scraper on this host needs it too: a reverse proxy here would make everyone look local.
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_in_development_local_unproxied_scrapers_get_metrics_without_a_token(client, settings):
    settings.METRICS_TOKEN, settings.DEBUG = "", True
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 403
    scrape(client, REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="")
    scrape(client, REMOTE_ADDR="::1", HTTP_AUTHORIZATION="")
    # A reverse proxy on this host forwards from 127.0.0.1, but the request came from elsewhere.
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE)
    assert proxied.status_code == 403
    assert client.post("/metrics").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_prometheus_scrape_over_real_http_from_this_host(live_server):
    record_request(node_ms={"retrieve": 20.0, "generate": 700.0}, kind="chat")
    scraper = urllib.request.Request(f"{live_server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(scraper, timeout=10) as response:
        text = response.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert values(families["twinsite_requests_24h"], kind="chat", status="ok") == {("twinsite_requests_24h",): 1}
    with pytest.raises(urllib.error.HTTPError) as refused:
        request = urllib.request.Request(f"{live_server.url}/metrics", headers={"X-Forwarded-For": OUTSIDE})
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
