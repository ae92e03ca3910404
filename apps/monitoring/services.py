"""Writes of traces: one per request through the RAG graph, a span per node."""

from typing import Any

from django.db import transaction

from apps.monitoring.models import Span, Trace

_SPAN_FIELDS = ("model", "input_size", "prompt_tokens", "completion_tokens", "chunk_ids", "scores")


@transaction.atomic
def trace_record(*, kind: str, question: str, state: dict[str, Any], total_ms: float, error: str = "") -> Trace:
    trace = Trace.objects.create(
        kind=kind,
        question=question,
        answer=state.get("answer", ""),
        status=Trace.Status.ERROR if error else Trace.Status.OK,
        error=error,
        model=state.get("model", ""),
        prompt_tokens=state.get("prompt_tokens"),
        completion_tokens=state.get("completion_tokens"),
        total_ms=round(total_ms, 2),
        filters=state.get("filters") or {},
        queries=state.get("queries") or [],
    )
    Span.objects.bulk_create(
        Span(
            trace=trace,
            ordinal=ordinal,
            node=span["node"],
            duration_ms=span["duration_ms"],
            details=span.get("details", {}),
            **{field: span[field] for field in _SPAN_FIELDS if span.get(field) is not None},
        )
        for ordinal, span in enumerate(state.get("spans") or [])
    )
    return trace
