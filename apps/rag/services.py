"""Asking the twin: run the graph, stream its tokens, record the trace; score a share of live answers."""

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from celery import current_app
from django.conf import settings
from django.db import transaction

from apps.documents.models import Chunk
from apps.monitoring.models import Trace
from apps.monitoring.services import trace_faithfulness_record, trace_record
from apps.rag.components import provider_name, scorer_for
from apps.rag.configuration import RagConfiguration
from apps.rag.faithfulness import answer_faithfulness
from apps.rag.graph import graph, search_graph
from lib.telemetry import tracing
from lib.telemetry.metrics import LLM_TOKENS, RAG_RUN_DURATION, RAG_RUNS

SCORE_FAITHFULNESS_TASK = "workers.rag.score_faithfulness"


@dataclass(frozen=True)
class RagAnswer:
    answer: str
    citations: list[dict[str, Any]]
    filters: dict[str, Any]
    queries: list[str]
    timings_ms: dict[str, float]
    trace_id: str
    relevant: bool
    model: str = ""
    answer_kind: str = ""
    contexts: list[dict[str, Any]] = field(default_factory=list)  # the passages, numbered as the answer cites them
    spans: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RagSearch:
    results: list[dict[str, Any]]  # ranked chunks with their documents
    filters: dict[str, Any]
    trace_id: str


async def _traced_run(
    compiled, state: dict[str, Any], *, configuration, kind: str, on_token=None, trace_id: uuid.UUID | None = None
) -> tuple[dict, str]:
    """Run a compiled graph; every run, failed, cancelled or not, leaves a trace. Returns the final state and
    trace id. A run cancelled by its caller (a streaming client that hung up) is traced as client_disconnected;
    one that did not finish keeps the answer streamed so far as the trace's answer."""
    started, started_ns = time.perf_counter(), time.time_ns()
    question = state["question"]
    streamed: list[str] = []

    async def record(**outcome: Any) -> Trace:
        final = state if state.get("answer") or not streamed else {**state, "answer": "".join(streamed)}
        elapsed_s = time.perf_counter() - started
        trace = await sync_to_async(trace_record)(
            kind=kind, question=question, state=final, total_ms=elapsed_s * 1000, trace_id=trace_id, **outcome
        )
        _count_run(kind=kind, status=trace.status, elapsed_s=elapsed_s, state=final, configuration=configuration)
        _export_run(trace=trace, started_ns=started_ns, state=final, configuration=configuration)
        return trace

    try:
        async for mode, chunk in compiled.astream(
            state, context=configuration or RagConfiguration(), stream_mode=["custom", "values"]
        ):
            if mode == "values":
                state = chunk
            elif "token" in chunk:
                streamed.append(chunk["token"])
                if on_token is not None:
                    on_token(chunk["token"])
    except asyncio.CancelledError:
        # Shielded: the trace is written even if the caller cancels again while it is.
        gone = "The client disconnected before the answer was complete."
        await asyncio.shield(record(status=Trace.Status.CLIENT_DISCONNECTED, error=gone))
        raise
    except Exception as exc:
        await record(error=f"{exc.__class__.__name__}: {exc}")
        raise
    trace = await record()
    if kind == "chat" and state.get("contexts") and state.get("answer_kind") != "no_answer":
        await sync_to_async(_maybe_score_later)(trace_id=str(trace.pk))
    return state, str(trace.pk)


def _count_run(*, kind: str, status: str, elapsed_s: float, state: dict, configuration) -> None:
    RAG_RUNS.labels(kind, status).inc()
    RAG_RUN_DURATION.labels(kind).observe(elapsed_s)
    provider = provider_name(configuration or RagConfiguration())
    for direction, key in (("input", "prompt_tokens"), ("output", "completion_tokens")):
        if state.get(key):
            LLM_TOKENS.labels(provider, direction).inc(state[key])


def _export_run(*, trace: Trace, started_ns: int, state: dict, configuration) -> None:
    """The run as an OpenTelemetry trace, when an OTLP endpoint is configured (lib.telemetry.tracing)."""
    if not tracing.enabled():
        return
    configuration = configuration or RagConfiguration()
    tracing.export_rag_run(
        tracing.RagRun(
            trace_id=trace.pk,
            kind=trace.kind,
            status=trace.status,
            started_ns=started_ns,
            ended_ns=time.time_ns(),
            provider=provider_name(configuration),
            model=trace.model,
            max_tokens=configuration.max_tokens,
            temperature=configuration.temperature,
            input_tokens=trace.prompt_tokens,
            output_tokens=trace.completion_tokens,
            error=trace.error,
            spans=state.get("spans") or [],
        )
    )


def _maybe_score_later(*, trace_id: str) -> None:
    """Send a share (RAG_FAITHFULNESS_SAMPLE) of live answers to be scored for faithfulness on the workers."""
    if random.random() < getattr(settings, "RAG_FAITHFULNESS_SAMPLE", 0.0):  # noqa: S311 - sampling, not secrecy
        transaction.on_commit(lambda: current_app.send_task(SCORE_FAITHFULNESS_TASK, args=[trace_id], queue="llm"))


def trace_faithfulness_score(*, trace_id: str, configuration: RagConfiguration | None = None) -> Trace:
    """Score a recorded answer's faithfulness against the passages it was shown, numbered as it saw them."""
    configuration = configuration or RagConfiguration()
    trace = Trace.objects.get(pk=trace_id)
    shown = trace.spans.filter(node="grade").order_by("-ordinal").values_list("chunk_ids", flat=True).first() or []
    texts = dict(Chunk.objects.filter(pk__in=shown).values_list("pk", "text"))
    passages = {n: texts[chunk_id] for n, chunk_id in enumerate(shown, start=1) if chunk_id in texts}
    score, sentences = answer_faithfulness(
        trace.answer, passages, scorer_for(configuration), configuration.support_threshold
    )
    return trace_faithfulness_record(trace=trace, faithfulness=score if score is not None else 1.0, sentences=sentences)


def _readable(readable_author_ids: Sequence[int] | None) -> list[int] | None:
    return None if readable_author_ids is None else list(readable_author_ids)


async def rag_search(
    *,
    question: str,
    author: str | None = None,
    configuration: RagConfiguration | None = None,
    readable_author_ids: Sequence[int] | None = None,
) -> RagSearch:
    """Ranked chunks for a question: the graph's retrieval half, without generation.

    ``readable_author_ids``: the authors the caller may read (apps.sources.selectors.readable_author_ids);
    None, every author: for operators' commands only. Every API passes the caller's.
    """
    state, trace_id = await _traced_run(
        search_graph,
        {
            "question": question,
            "queries": [question],
            "author": author,
            "readable_author_ids": _readable(readable_author_ids),
        },
        configuration=configuration,
        kind="search",
    )
    return RagSearch(results=state.get("contexts") or [], filters=state.get("filters") or {}, trace_id=trace_id)


async def rag_run(
    *,
    question: str,
    history: list[dict[str, str]] | None = None,
    author: str | None = None,
    configuration: RagConfiguration | None = None,
    on_token: Callable[[str], None] | None = None,
    kind: str = "ask",
    readable_author_ids: Sequence[int] | None = None,
    trace_id: uuid.UUID | None = None,
) -> RagAnswer:
    """Answer a question through the graph; every run, failed or not, leaves a trace (``trace_id``, when given:
    a caller that must point at the trace of a run that raised chooses its id).

    ``readable_author_ids`` as for rag_search: None (every author) for operators' commands only.
    """
    state, trace_id = await _traced_run(
        graph,
        {
            "question": question,
            "history": history or [],
            "author": author,
            "readable_author_ids": _readable(readable_author_ids),
        },
        configuration=configuration,
        kind=kind,
        on_token=on_token,
        trace_id=trace_id,
    )
    spans = state.get("spans") or []
    return RagAnswer(
        answer=state.get("answer", ""),
        citations=state.get("citations") or [],
        filters=state.get("filters") or {},
        queries=state.get("queries") or [],
        timings_ms={span["node"]: span["duration_ms"] for span in spans},
        trace_id=trace_id,
        relevant=bool(state.get("relevant")),
        model=state.get("model", ""),
        answer_kind=state.get("answer_kind", ""),
        contexts=state.get("contexts") or [],
        spans=spans,
    )


def rag_answer(**kwargs: Any) -> RagAnswer:
    """rag_run for synchronous callers (commands, Celery tasks)."""
    return async_to_sync(rag_run)(**kwargs)
