"""Gauges of the service's state right now, read at scrape time: queue depths, how long the oldest chunk has
waited for its embedding, sources whose crawls keep failing, and the model in production.

These are states, not events, so they are gauges and need no counting by the processes that change them.
A broker that does not answer leaves the queue gauges out of that scrape (twinsite_broker_up says so).
"""

import logging
from collections.abc import Iterator
from pathlib import Path

import redis
from django.conf import settings
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from apps.monitoring.selectors import chunks_unembedded_oldest, crawl_failures_in_a_row
from lib.production_pointer import production_model_path

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_S = 1.0
# kombu's Redis transport keeps a queue's messages of priority p > 0 under "<queue>\x06\x16<p>".
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def queue_lengths(queues: list[str]) -> dict[str, int] | None:
    """Messages waiting in each Celery queue of the broker; None when it does not answer."""
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=BROKER_TIMEOUT_S, socket_timeout=BROKER_TIMEOUT_S
        )
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                for suffix in _PRIORITY_SUFFIXES:
                    pipe.llen(queue + suffix)
            counts = pipe.execute()
    except redis.RedisError as exc:
        logger.warning("metrics: the broker did not answer (%s)", exc.__class__.__name__)
        return None
    per_queue = len(_PRIORITY_SUFFIXES)
    return {queue: sum(counts[n * per_queue : (n + 1) * per_queue]) for n, queue in enumerate(queues)}


def production_model() -> tuple[str, str]:
    """(the production model version's directory name, or "" when none is promoted; the provider serving)."""
    production = production_model_path(Path(settings.MODELS_DIR))
    return (production.name if production else ""), settings.LLM_PROVIDER


class OperationsCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        lengths = queue_lengths(list(settings.WORKER_QUEUES))
        yield GaugeMetricFamily("twinsite_broker_up", "1 when the broker answered this scrape.", lengths is not None)
        if lengths is not None:
            queues = GaugeMetricFamily("twinsite_queue_length", "Tasks waiting in each Celery queue.", labels=["queue"])
            for queue, length in lengths.items():
                queues.add_metric([queue], length)
            yield queues
        oldest = chunks_unembedded_oldest()
        yield GaugeMetricFamily(
            "twinsite_embedding_lag_seconds",
            "How long the chunk that has waited longest for its embedding has waited (0: none waits).",
            (timezone.now() - oldest).total_seconds() if oldest else 0.0,
        )
        failing = GaugeMetricFamily(
            "twinsite_source_crawl_failures_in_a_row",
            "Finished crawl runs of an active source that failed since it last stored anything.",
            labels=["source_id"],
        )
        for source_id, count in sorted(crawl_failures_in_a_row().items()):
            failing.add_metric([str(source_id)], count)
        yield failing
        version, provider = production_model()
        model = GaugeMetricFamily(
            "twinsite_model_production_info",
            "The model version in production (empty: none promoted) and the provider serving answers.",
            labels=["version", "provider"],
        )
        model.add_metric([version, provider], 1)
        yield model
