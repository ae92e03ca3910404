"""Requests recorded the way rag_run records them: a trace with the spans of the nodes that ran, then aged."""

import math
import random
from datetime import timedelta

from django.utils import timezone

from apps.monitoring.models import Trace
from apps.monitoring.services import trace_record

NODES = ("rewrite", "self_query", "retrieve", "rerank", "generate", "postprocess")
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
QUESTIONS = (
    "What did Ada write about the analytical engine?",
    "How does she chunk long posts before embedding them?",
    "Which feeds does the blog publish?",
    "Summarise the argument of the post on retrieval evaluation.",
)


def _span(node: str, duration_ms: float, rng: random.Random) -> dict:
    span: dict = {"node": node, "duration_ms": duration_ms}
    if node == "rewrite":
        span |= {"model": MODEL, "completion_tokens": rng.randint(10, 40), "input_size": 48}
    elif node == "retrieve":
        ids = rng.sample(range(1, 500), 8)
        span |= {"model": "sentence-transformers/all-MiniLM-L6-v2", "input_size": 3, "chunk_ids": ids}
        span["scores"] = sorted((round(rng.random() / 30, 5) for _ in ids), reverse=True)
    elif node == "rerank":
        span |= {"input_size": 8, "chunk_ids": [1, 2, 3], "details": {"reranker": None}}
    elif node == "generate":
        span |= {"model": MODEL, "input_size": 2400, "prompt_tokens": 610, "completion_tokens": 95}
    return span


def record_request(
    *,
    node_ms: dict[str, float],
    kind: str = "ask",
    error: str = "",
    age: timedelta = timedelta(minutes=1),
    rng: random.Random | None = None,
) -> Trace:
    """Record a request whose nodes took node_ms; a failed one stops after the nodes it reached."""
    rng = rng or random.Random(0)
    spans = [_span(node, ms, rng) for node, ms in node_ms.items()]
    generated = not error and "generate" in node_ms
    state = {
        "question": rng.choice(QUESTIONS),
        "queries": ["analytical engine", "Ada Lovelace engine notes"],
        "filters": {"author": "Ada Lovelace"},
        "spans": spans,
        **(
            {"answer": "She called it a machine for weaving algebraic patterns [1].", "model": MODEL}
            if generated
            else {}
        ),
        **({"prompt_tokens": 610 + len(spans), "completion_tokens": 95 + len(spans)} if generated else {}),
    }
    # The graph's own bookkeeping (streaming, the trace write) adds a little to the sum of the nodes.
    total_ms = sum(node_ms.values()) + rng.uniform(1, 5)
    trace = trace_record(kind=kind, question=state["question"], state=state, total_ms=total_ms, error=error)
    Trace.objects.filter(pk=trace.pk).update(created_at=timezone.now() - age)
    trace.refresh_from_db()
    return trace


def record_traffic(seed: int = 7) -> list[Trace]:
    """A day of traffic: asks, chats and searches, fast and slow, some failing, some older than a day."""
    rng = random.Random(seed)
    traces = []
    for n in range(30):
        kind = ("ask", "chat", "search")[n % 3]
        nodes = NODES[:3] if kind == "search" else NODES
        node_ms = {
            node: round(rng.lognormvariate(math.log(40 if node != "generate" else 900), 0.6), 2) for node in nodes
        }
        error = ""
        if n % 7 == 3 and kind != "search":  # the provider timed out: the request stops after rerank
            node_ms = {node: node_ms[node] for node in NODES[:4]}
            error = "ProviderUnavailable: TGI at http://127.0.0.1:8080 did not answer within 60 s"
        elif n % 7 == 3:  # the database gave up on the search: it stops after self_query
            node_ms = {node: node_ms[node] for node in NODES[:2]}
            error = "OperationalError: canceling statement due to statement timeout"
        age = timedelta(minutes=rng.uniform(1, 23 * 60))
        traces.append(record_request(node_ms=node_ms, kind=kind, error=error, age=age, rng=rng))
    # Outside the 24-hour window (but inside 7 days): slow, so a wrong window shows in every number.
    for days in (1.5, 3):
        slow = {node: 5000.0 for node in NODES}
        traces.append(record_request(node_ms=slow, kind="chat", age=timedelta(days=days), rng=rng))
    return traces


def percentile_cont(values: list[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont, in Python: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
