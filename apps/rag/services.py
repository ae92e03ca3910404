"""Asking the twin: run the graph, stream its tokens, record the trace."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async

from apps.monitoring.services import trace_record
from apps.rag.configuration import RagConfiguration
from apps.rag.graph import graph, search_graph


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
    spans: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RagSearch:
    results: list[dict[str, Any]]  # ranked chunks with their documents
    filters: dict[str, Any]
    trace_id: str


async def _traced_run(compiled, state: dict[str, Any], *, configuration, kind: str, on_token=None) -> tuple[dict, str]:
    """Run a compiled graph; every run, failed or not, leaves a trace. Returns the final state and trace id."""
    started = time.perf_counter()
    question = state["question"]
    try:
        async for mode, chunk in compiled.astream(
            state, context=configuration or RagConfiguration(), stream_mode=["custom", "values"]
        ):
            if mode == "values":
                state = chunk
            elif on_token is not None and "token" in chunk:
                on_token(chunk["token"])
    except Exception as exc:
        error = f"{exc.__class__.__name__}: {exc}"
        await sync_to_async(trace_record)(
            kind=kind, question=question, state=state, total_ms=(time.perf_counter() - started) * 1000, error=error
        )
        raise
    trace = await sync_to_async(trace_record)(
        kind=kind, question=question, state=state, total_ms=(time.perf_counter() - started) * 1000
    )
    return state, str(trace.pk)


async def rag_search(
    *, question: str, author: str | None = None, configuration: RagConfiguration | None = None
) -> RagSearch:
    """Ranked chunks for a question: the graph's retrieval half, without generation."""
    state, trace_id = await _traced_run(
        search_graph,
        {"question": question, "queries": [question], "author": author},
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
) -> RagAnswer:
    """Answer a question through the graph; every run, failed or not, leaves a trace."""
    state, trace_id = await _traced_run(
        graph,
        {"question": question, "history": history or [], "author": author},
        configuration=configuration,
        kind=kind,
        on_token=on_token,
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
        spans=spans,
    )


def rag_answer(**kwargs: Any) -> RagAnswer:
    """rag_run for synchronous callers (commands, Celery tasks)."""
    return async_to_sync(rag_run)(**kwargs)
