"""Writes of traces (one per request through the RAG graph, a span per node) and of RAG evaluation runs."""

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.monitoring.models import EvalRun, Span, Trace
from lib.redaction import url_redact

_SPAN_FIELDS = ("model", "input_size", "prompt_tokens", "completion_tokens", "chunk_ids", "scores")


@transaction.atomic
def trace_record(
    *,
    kind: str,
    question: str,
    state: dict[str, Any],
    total_ms: float,
    error: str = "",
    status: str = "",
    trace_id: uuid.UUID | None = None,
) -> Trace:
    """The run's trace, with its id when the caller chose one. ``status`` defaults to error when there is one."""
    trace = Trace.objects.create(
        **({"id": trace_id} if trace_id else {}),
        kind=kind,
        question=question,
        answer=state.get("answer", ""),
        answer_kind=state.get("answer_kind", ""),
        status=status or (Trace.Status.ERROR if error else Trace.Status.OK),
        error=url_redact(error),
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


@transaction.atomic
def trace_faithfulness_record(*, trace: Trace, faithfulness: float, sentences: list[dict[str, Any]]) -> Trace:
    """A background faithfulness score of a live answer: on the trace, and as a span of its own."""
    trace.faithfulness = round(faithfulness, 4)
    trace.save(update_fields=["faithfulness"])
    ordinal = (trace.spans.order_by("-ordinal").values_list("ordinal", flat=True).first() or 0) + 1
    Span.objects.create(
        trace=trace,
        ordinal=ordinal,
        node="faithfulness",
        duration_ms=0,
        input_size=len(sentences),
        scores=[s["score"] for s in sentences],
        details={"faithfulness": trace.faithfulness, "sentences": sentences},
    )
    return trace


def eval_run_start(*, name: str, author_name: str, questions_source: str, model: str, configuration: dict) -> EvalRun:
    return EvalRun.objects.create(
        name=name,
        author_name=author_name,
        questions_source=questions_source,
        model=model,
        configuration=configuration,
    )


def eval_run_finish(*, run: EvalRun, metrics: dict, items: list[dict], error: str = "") -> EvalRun:
    run.metrics, run.items, run.error = metrics, items, error
    run.status = EvalRun.Status.FAILED if error else EvalRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["metrics", "items", "error", "status", "finished_at"])
    return run
