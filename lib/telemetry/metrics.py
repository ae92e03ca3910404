"""Prometheus counters and histograms, counted by every process and summed at scrape time.

Requests are served by several uvicorn workers, crawls and embeds run in Celery worker processes: a counter
kept in one process would count only its share. prometheus_client's multiprocess mode has each process write
its samples to memory-mapped files in one directory (the settings call ``use_multiprocess_dir`` with
PROMETHEUS_MULTIPROC_DIR, under DATA_DIR); a scrape sums the files of every process, live or gone, so a
counter never goes down when a process exits. Files are named by host and pid: containers that share the
data volume (docker-compose) reuse the same pids.

Every metric has labels, so its samples are created on first use: ``use_multiprocess_dir`` only has to run
before the first increment, not before this module is imported. Without a directory (a bare script), the
metrics count in this process alone.
"""

import os
import re
import socket
from pathlib import Path

from prometheus_client import Counter, Histogram, values
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

REQUEST_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
NODE_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

_multiprocess_dir: Path | None = None


def _process_identifier() -> str:
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())  # "_" separates the parts of the file name
    return f"{host}-{os.getpid()}"


def use_multiprocess_dir(path: Path) -> None:
    """Count into files under path, shared with every other process that does the same."""
    global _multiprocess_dir
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)
    _multiprocess_dir = path


def live_collector(path: Path | None = None) -> Collector:
    """What every process counted (the files under path, default: this process's directory); without a
    directory, this process's own counts."""
    path = path or _multiprocess_dir
    if path is None:
        return REGISTRY
    return MultiProcessCollector(None, path=str(path))


HTTP_REQUESTS = Counter(
    "twinsite_http_requests", "HTTP responses, by URL route pattern, method and status.", ["route", "method", "status"]
)
HTTP_REQUEST_DURATION = Histogram(
    "twinsite_http_request_duration_seconds",
    "Time until the response was ready (for a stream: its headers), by URL route pattern and method.",
    ["route", "method"],
    buckets=REQUEST_BUCKETS_S,
)
RAG_RUNS = Counter(
    "twinsite_rag_runs", "Runs of the RAG graph, by kind (ask, chat, search) and status.", ["kind", "status"]
)
RAG_RUN_DURATION = Histogram(
    "twinsite_rag_run_duration_seconds", "Duration of runs of the RAG graph, by kind.", ["kind"],
    buckets=REQUEST_BUCKETS_S,
)  # fmt: skip
GRAPH_NODE_DURATION = Histogram(
    "twinsite_graph_node_duration_seconds", "Duration of each RAG graph node.", ["node"], buckets=NODE_BUCKETS_S
)
LLM_TOKENS = Counter(
    "twinsite_llm_tokens",
    "Tokens the generation model read (input) and wrote (output), where the provider counts them.",
    ["provider", "direction"],
)
PROVIDER_CALLS = Counter("twinsite_provider_calls", "Calls to the generation provider.", ["provider"])
PROVIDER_ERRORS = Counter(
    "twinsite_provider_errors",
    "Failed calls to the generation provider: unavailable (down, timed out, 5xx) or rejected (4xx).",
    ["provider", "reason"],
)
THROTTLED_REQUESTS = Counter("twinsite_throttled_requests", "API requests refused with 429, by scope.", ["scope"])
CRAWL_PAGES = Counter(
    "twinsite_crawl_pages",
    "Pages of finished crawl runs, by outcome: new, changed, unchanged, failed, skipped.",
    ["outcome"],
)
CRAWL_RUNS_FINISHED = Counter("twinsite_crawl_runs_finished", "Crawl runs finished, by status.", ["status"])
TASK_FAILURES = Counter("twinsite_task_failures", "Celery tasks that failed for good, by task.", ["task"])
TASK_RETRIES = Counter("twinsite_task_retries", "Celery tasks sent back to be retried, by task.", ["task"])
