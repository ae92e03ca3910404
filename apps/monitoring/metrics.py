"""Prometheus metrics: counters and histograms that every process counts, and gauges read at scrape time.

Monotonic counters and histograms (requests by route and status, latencies per route and graph node,
tokens, provider errors, throttles, crawl pages, task failures) are counted where things happen, in
whichever uvicorn or Celery process does them, and summed over all of them at scrape time
(lib.telemetry.metrics): use these with rate() and for alerts (deploy/prometheus/alerts.yml). The state
right now (queues, embedding lag, failing sources, the production model) is in apps.monitoring.operations.

The rolling 24-hour gauges below, read from the database, feed the dashboard: the Trace, Span, Document,
Chunk and CrawlRun rows are the one record every process writes to, so every scrape gives the same answer.

Why the last 24 hours, exposed as gauges: the trace-derived metrics (requests, errors, tokens,
latency histograms) cover requests of the last 24 hours, which the index on Trace.created_at
answers cheaply however long the service has run; cumulative all-time totals would scan every
trace and span on each scrape. A rolling window goes down as old requests leave it, so these
are gauges and gauge histograms, never counters: a Prometheus counter that goes down is read
as a restart and makes rate() wrong. Read them as they are, e.g. the 24-hour p95 is
histogram_quantile(0.95, sum by (le) (twinsite_request_duration_24h_seconds_bucket)), and
sum(twinsite_request_errors_24h) / sum(twinsite_requests_24h) is the 24-hour error rate.
The pipeline metrics (pending documents, unembedded chunks, crawl runs by status) are the
state right now.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from apps.monitoring.operations import OperationsCollector
from apps.monitoring.selectors import LatencyGroup, node_latency_groups, pipeline_backlog, request_latency_groups
from lib.telemetry.metrics import live_collector

WINDOW = timedelta(hours=24)
# The classic text format: what generate_latest writes and every Prometheus version reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
REQUEST_BOUNDS_MS = (100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0, 60000.0, 120000.0)
NODE_BOUNDS_MS = (5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0, 60000.0)


def _histogram(
    name: str, documentation: str, label_names: list[str], groups: list[LatencyGroup], bounds_ms: tuple[float, ...]
) -> GaugeHistogramMetricFamily:
    family = GaugeHistogramMetricFamily(name, documentation, labels=label_names)
    merged: dict[tuple[str, ...], list[float]] = {}
    for group in groups:  # requests come grouped by kind and status; the histogram is by its own labels only
        key = tuple(group.labels[label] for label in label_names)
        totals = merged.setdefault(key, [0.0] * (len(bounds_ms) + 2))
        for n, value in enumerate((*group.at_most, group.count, group.sum_ms)):
            totals[n] += value
    for key, totals in merged.items():
        buckets = [(floatToGoString(bound / 1000), totals[n]) for n, bound in enumerate(bounds_ms)]
        buckets.append(("+Inf", totals[-2]))
        family.add_metric(list(key), buckets, totals[-1] / 1000)
    return family


class TwinsiteCollector(Collector):
    """Collects every Twinsite metric from the database when Prometheus scrapes."""

    def __init__(self, *, now: datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        since = (self.now or timezone.now()) - WINDOW
        requests = request_latency_groups(since=since, bounds_ms=REQUEST_BOUNDS_MS)
        yield from self._request_metrics(requests)
        yield _histogram(
            "twinsite_request_duration_24h_seconds",
            "Duration of requests through the RAG graph in the last 24 hours, by kind.",
            ["kind"],
            requests,
            REQUEST_BOUNDS_MS,
        )
        yield _histogram(
            "twinsite_node_duration_24h_seconds",
            "Duration of each RAG graph node (span) in requests of the last 24 hours.",
            ["node"],
            node_latency_groups(since=since, bounds_ms=NODE_BOUNDS_MS),
            NODE_BOUNDS_MS,
        )
        yield from self._pipeline_metrics()

    @staticmethod
    def _request_metrics(groups: list[LatencyGroup]) -> Iterator[Metric]:
        requests = GaugeMetricFamily(
            "twinsite_requests_24h", "Requests (ask, chat, search) in the last 24 hours.", labels=["kind", "status"]
        )
        errors = GaugeMetricFamily(
            "twinsite_request_errors_24h", "Failed requests in the last 24 hours.", labels=["kind"]
        )
        tokens = GaugeMetricFamily(
            "twinsite_tokens_24h", "LLM tokens spent by requests in the last 24 hours.", labels=["kind", "type"]
        )
        failed: dict[str, int] = {}
        spent: dict[tuple[str, str], int] = {}
        for group in groups:
            kind, status = group.labels["kind"], group.labels["status"]
            requests.add_metric([kind, status], group.count)
            failed[kind] = failed.get(kind, 0) + (group.count if status == "error" else 0)
            for token_type, count in (("prompt", group.prompt_tokens), ("completion", group.completion_tokens)):
                spent[kind, token_type] = spent.get((kind, token_type), 0) + count
        for kind, count in failed.items():
            errors.add_metric([kind], count)
        for labels, count in spent.items():
            tokens.add_metric(list(labels), count)
        yield from (requests, errors, tokens)

    @staticmethod
    def _pipeline_metrics() -> Iterator[Metric]:
        backlog = pipeline_backlog()
        yield GaugeMetricFamily(
            "twinsite_documents_pending",
            "Documents waiting to be processed (cleaned, chunked).",
            backlog.documents_pending,
        )
        yield GaugeMetricFamily(
            "twinsite_chunks_unembedded", "Chunks waiting to be embedded (no vector yet).", backlog.chunks_unembedded
        )
        runs = GaugeMetricFamily("twinsite_crawl_runs", "Crawl runs by status, all time.", labels=["status"])
        for status, count in backlog.crawl_runs.items():
            runs.add_metric([status], count)
        yield runs


def metrics_exposition(*, now: datetime | None = None) -> bytes:
    """The Prometheus text exposition of every Twinsite metric: the counters and histograms every process
    counted (lib.telemetry.metrics), the state right now (apps.monitoring.operations), the 24-hour gauges."""
    # A fresh registry per scrape: no process-local state, and no describe() query at registration.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(live_collector())
    registry.register(OperationsCollector())
    registry.register(TwinsiteCollector(now=now))
    return generate_latest(registry)
