"""Reads of traces for the dashboard: counts, error rate and latency percentiles, computed in PostgreSQL."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    F,
    FloatField,
    Func,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.aggregates import Aggregate
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.documents.models import Chunk, Document
from apps.monitoring.models import EvalRun, Notice, Span, Trace
from apps.sources.models import CrawlRun


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: the continuous (interpolated) percentile of a column."""

    function = "PERCENTILE_CONT"
    name = "percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: str, fraction: float, **extra) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError(f"A percentile is a fraction between 0 and 1, not {fraction}.")
        # A float from code, rendered by repr: never text from a request.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


@dataclass(frozen=True)
class TraceSummary:
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    prompt_tokens: int
    completion_tokens: int

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class NodeLatency:
    node: str
    spans: int
    mean_ms: float
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class TrafficBucket:
    start: datetime
    requests: int
    errors: int
    p95_ms: float | None


_IS_ERROR = Q(status=Trace.Status.ERROR)


def trace_summary(*, since: datetime) -> TraceSummary:
    """Requests since a moment: how many, how many failed, latency percentiles and tokens spent."""
    totals = Trace.objects.filter(created_at__gte=since).aggregate(
        requests=Count("id"),
        errors=Count("id", filter=_IS_ERROR),
        p50_ms=Percentile("total_ms", 0.5),
        p95_ms=Percentile("total_ms", 0.95),
        prompt_tokens=Coalesce(Sum("prompt_tokens"), 0),
        completion_tokens=Coalesce(Sum("completion_tokens"), 0),
    )
    return TraceSummary(**totals)


def node_latency(*, since: datetime) -> list[NodeLatency]:
    """Latency of each graph node over the spans of requests since a moment, in pipeline order."""
    rows = (
        Span.objects.filter(trace__created_at__gte=since)
        .values("node")
        .annotate(
            spans=Count("id"),
            mean_ms=Avg("duration_ms"),
            p50_ms=Percentile("duration_ms", 0.5),
            p95_ms=Percentile("duration_ms", 0.95),
            # Nodes run in a fixed order, so their smallest ordinal sorts them as the graph runs them.
            position=Min("ordinal"),
        )
        .order_by("position", "node")
    )
    return [NodeLatency(**{k: v for k, v in row.items() if k != "position"}) for row in rows]


def slowest_traces(*, since: datetime, limit: int = 10) -> list[Trace]:
    """The slowest requests since a moment, slowest first."""
    return list(
        Trace.objects.filter(created_at__gte=since)
        .order_by("-total_ms", "-created_at")
        .only("id", "kind", "question", "status", "model", "total_ms", "created_at")[:limit]
    )


def traffic_series(*, since: datetime, buckets: int, until: datetime | None = None) -> list[TrafficBucket]:
    """Requests, errors and p95 latency in equal time buckets from `since` to `until` (now); empty buckets included."""
    until = until or timezone.now()
    width = (until - since) / buckets
    rows = (
        Trace.objects.filter(created_at__gte=since, created_at__lt=until)
        .annotate(
            bucket=Func(
                Value(width, output_field=DurationField()),
                F("created_at"),
                Value(since, output_field=DateTimeField()),
                function="DATE_BIN",
                output_field=DateTimeField(),
            )
        )
        .values("bucket")
        .annotate(requests=Count("id"), errors=Count("id", filter=_IS_ERROR), p95_ms=Percentile("total_ms", 0.95))
        .order_by("bucket")
    )
    by_start = {row["bucket"]: row for row in rows}
    series = []
    for n in range(buckets):
        start = since + n * width
        row = by_start.get(start, {})
        series.append(TrafficBucket(start, row.get("requests", 0), row.get("errors", 0), row.get("p95_ms")))
    return series


# --- Reads for the Prometheus exposition (apps.monitoring.metrics) ---------------------------


@dataclass(frozen=True)
class LatencyGroup:
    """Requests (or spans) sharing labels: how many, total milliseconds, and how many took at most each bound."""

    labels: dict[str, str]
    count: int
    sum_ms: float
    at_most: tuple[int, ...]
    prompt_tokens: int = 0
    completion_tokens: int = 0


def _at_most(field: str, bounds_ms: tuple[float, ...]) -> dict[str, Count]:
    # One pass over the rows: a filtered count per histogram bound.
    return {f"le_{n}": Count("id", filter=Q(**{f"{field}__lte": bound})) for n, bound in enumerate(bounds_ms)}


def request_latency_groups(*, since: datetime, bounds_ms: tuple[float, ...]) -> list[LatencyGroup]:
    """Requests since a moment by kind and status, with tokens and cumulative latency counts."""
    rows = (
        Trace.objects.filter(created_at__gte=since)
        .values("kind", "status")
        .annotate(
            count=Count("id"),
            sum_ms=Coalesce(Sum("total_ms"), 0.0),
            prompt_tokens=Coalesce(Sum("prompt_tokens"), 0),
            completion_tokens=Coalesce(Sum("completion_tokens"), 0),
            **_at_most("total_ms", bounds_ms),
        )
        .order_by("kind", "status")
    )
    return [
        LatencyGroup(
            labels={"kind": row["kind"], "status": row["status"]},
            count=row["count"],
            sum_ms=row["sum_ms"],
            at_most=tuple(row[f"le_{n}"] for n in range(len(bounds_ms))),
            prompt_tokens=row["prompt_tokens"],
            completion_tokens=row["completion_tokens"],
        )
        for row in rows
    ]


def node_latency_groups(*, since: datetime, bounds_ms: tuple[float, ...]) -> list[LatencyGroup]:
    """Spans of requests since a moment by node, with cumulative latency counts."""
    rows = (
        Span.objects.filter(trace__created_at__gte=since)
        .values("node")
        .annotate(count=Count("id"), sum_ms=Coalesce(Sum("duration_ms"), 0.0), **_at_most("duration_ms", bounds_ms))
        .order_by("node")
    )
    return [
        LatencyGroup(
            labels={"node": row["node"]},
            count=row["count"],
            sum_ms=row["sum_ms"],
            at_most=tuple(row[f"le_{n}"] for n in range(len(bounds_ms))),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PipelineBacklog:
    documents_pending: int
    chunks_unembedded: int
    crawl_runs: dict[str, int]


def pipeline_backlog() -> PipelineBacklog:
    """Work the crawl and embed workers have not done yet, and every crawl run by status.

    Unembedded means no vector at all (the partial index chunk_unembedded answers it); chunks
    embedded by an older model also get re-embedded, but counting those would scan every chunk.
    """
    by_status = dict(CrawlRun.objects.order_by().values_list("status").annotate(Count("id")))
    return PipelineBacklog(
        documents_pending=Document.objects.filter(status=Document.Status.PENDING).count(),
        chunks_unembedded=Chunk.objects.filter(embedding__isnull=True).count(),
        crawl_runs={status: by_status.get(status, 0) for status in CrawlRun.Status.values},
    )


def crawl_failures_in_a_row() -> dict[int, int]:
    """Per active source whose latest crawls failed: how many finished runs failed since its last run that
    stored anything (succeeded or partly failed), by source id. Sources doing fine are left out."""
    stored = (CrawlRun.Status.SUCCEEDED, CrawlRun.Status.PARTIAL)
    last_stored = (
        CrawlRun.objects.filter(source=OuterRef("source"), status__in=stored, finished_at__isnull=False)
        .order_by("-finished_at")
        .values("finished_at")[:1]
    )
    failing = (
        CrawlRun.objects.filter(status=CrawlRun.Status.FAILED, source__active=True, finished_at__isnull=False)
        .annotate(last_stored=Subquery(last_stored))
        .filter(Q(last_stored__isnull=True) | Q(finished_at__gt=F("last_stored")))
        .order_by()
        .values_list("source_id")
        .annotate(Count("id"))
    )
    return dict(failing)


def chunks_unembedded_oldest() -> datetime | None:
    """When the chunk that has waited longest for its embedding was made (None: none waits)."""
    return Chunk.objects.filter(embedding__isnull=True).aggregate(oldest=Min("created_at"))["oldest"]


def notices_shown() -> list[Notice]:
    """The notices staff see in the admin's banner: raised, not resolved, not muted."""
    return list(Notice.objects.filter(raised_at__isnull=False, resolved_at__isnull=True, muted=False)[:10])


def answer_check_record(*, model: str, last: int) -> list[bool]:
    """Whether each of a model's latest checked answers held up against its sources, newest first."""
    details = (
        Span.objects.filter(node="check", trace__model=model, trace__status=Trace.Status.OK)
        .order_by("-trace__created_at")
        .values_list("details", flat=True)[:last]
    )
    return [bool(d.get("kept")) for d in details]


def answers_quoted_since_check(*, model: str) -> int:
    """How many answers auto mode quoted without asking this model since its latest checked answer."""
    last_checked = (
        Span.objects.filter(node="check", trace__model=model, trace__status=Trace.Status.OK)
        .order_by("-trace__created_at")
        .values_list("trace__created_at", flat=True)
        .first()
    )
    quoted = Span.objects.filter(node="choose", details__model=model, details__decision="extract")
    if last_checked is not None:
        quoted = quoted.filter(trace__created_at__gt=last_checked)
    return quoted.count()


EVAL_METRICS = (
    "hit@5", "mrr", "right_page_cited", "faithfulness", "answer_relevance",
    "reference_carried", "refusal_correctness", "total_ms_p50",
)  # fmt: skip


@dataclass(frozen=True)
class EvalRunRow:
    created_at: datetime
    name: str
    model: str
    answer_mode: str
    values: list[float | None]


def eval_run_history(*, limit: int = 20) -> list[EvalRunRow]:
    """Finished evaluation runs, newest first, with the metrics the dashboard compares side by side."""
    runs = EvalRun.objects.filter(status=EvalRun.Status.DONE)[:limit]
    return [
        EvalRunRow(
            created_at=run.created_at,
            name=run.name,
            model=run.model,
            answer_mode=str(run.configuration.get("answer_mode") or "auto"),
            values=[run.metrics.get(metric) for metric in EVAL_METRICS],
        )
        for run in runs
    ]


def faithfulness_summary(*, since: datetime) -> dict:
    """Live answers scored for faithfulness in the background since a moment: how many, and their mean."""
    return Trace.objects.filter(created_at__gte=since, faithfulness__isnull=False).aggregate(
        scored=Count("id"), mean=Avg("faithfulness")
    )


def trace_tokens(*, trace_id: str) -> tuple[int | None, int | None]:
    """The prompt and completion tokens of a request's answer, as its trace recorded them."""
    row = Trace.objects.filter(pk=trace_id).values_list("prompt_tokens", "completion_tokens").first()
    return row or (None, None)
