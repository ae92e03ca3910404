"""OpenTelemetry export of RAG runs, for Langfuse, Phoenix, Grafana Tempo and other OTLP tools.

Enabled when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: each run becomes
one trace over OTLP/HTTP (protobuf), a root span for the run and a child span per graph node, with the
GenAI semantic conventions' attributes (gen_ai.operation.name, gen_ai.request.model, gen_ai.usage.*).
The OpenTelemetry trace id is the run's own trace id (Trace.id in the admin), so one finds the other.
The exporter's other standard variables apply (OTEL_EXPORTER_OTLP_HEADERS for a tool's key, OTEL_SERVICE_NAME).

What spans carry: names, timings, models, token counts, chunk ids, decisions. Never the question, the answer
or the passages (people's words), and never a key: model names that are URLs lose their credentials.
Spans are sent in the background (a batch processor per process); a collector that is down costs nothing but
its spans.
"""

import contextvars
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

from lib.redaction import url_redact

logger = logging.getLogger(__name__)

AGENT_NAME = "twin_rag"
# Nodes that ask the generation model: their spans are GenAI "chat" spans.
MODEL_NODES = frozenset({"generate", "condense", "expand", "reformulate"})
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

_run_trace_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("run_trace_id", default=None)
_lock = threading.Lock()
_providers: dict[tuple, TracerProvider] = {}


class _RunTraceIds(RandomIdGenerator):
    """The run's own trace id for its root span (children inherit it); random ids elsewhere."""

    def generate_trace_id(self) -> int:
        return _run_trace_id.get() or super().generate_trace_id()


@dataclass(frozen=True)
class RagRun:
    """What is exported of one run of the graph (apps.rag.services builds it from the run's state)."""

    trace_id: uuid.UUID
    kind: str  # ask, chat, search
    status: str  # ok, error, client_disconnected
    started_ns: int
    ended_ns: int
    provider: str
    model: str = ""
    max_tokens: int | None = None
    temperature: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    error: str = ""
    spans: list[dict[str, Any]] = field(default_factory=list)  # the state's spans: node, started_ns, duration_ms


def enabled() -> bool:
    return any(os.environ.get(name) for name in _ENDPOINT_VARIABLES)


def _tracer() -> trace.Tracer | None:
    """A tracer for this process and endpoint, built on first use (a forked Celery child builds its own)."""
    key = (os.getpid(), *(os.environ.get(name, "") for name in _ENDPOINT_VARIABLES))
    if not any(key[1:]):
        return None
    with _lock:
        if key not in _providers:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "twinsite"})
            provider = TracerProvider(resource=resource, id_generator=_RunTraceIds(), shutdown_on_exit=True)
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # reads the OTEL_* variables
            _providers[key] = provider
        return _providers[key].get_tracer("twinsite.rag")


def flush(timeout_ms: int = 5000) -> bool:
    """Send the spans waiting in this process's batches now (tests, and processes about to exit)."""
    return all(provider.force_flush(timeout_ms) for provider in list(_providers.values()))


def _model_attributes(run: RagRun, model: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {"gen_ai.provider.name": run.provider, "gen_ai.system": run.provider}
    if not model:  # a run that never reached the model (a search, a greeting)
        return attributes
    attributes["gen_ai.request.model"] = url_redact(model)
    if run.max_tokens is not None:
        attributes["gen_ai.request.max_tokens"] = run.max_tokens
    if run.temperature is not None:
        attributes["gen_ai.request.temperature"] = run.temperature
    return attributes


def _node_attributes(run: RagRun, span: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    node = span["node"]
    attributes: dict[str, Any] = {"twinsite.rag.node": node, "twinsite.rag.input_size": span.get("input_size") or 0}
    if span.get("chunk_ids"):
        attributes["twinsite.rag.chunk_ids"] = [int(chunk_id) for chunk_id in span["chunk_ids"]]
    if node not in MODEL_NODES or not span.get("model"):
        return node, attributes
    attributes |= {"gen_ai.operation.name": "chat", **_model_attributes(run, span["model"])}
    attributes["gen_ai.response.model"] = url_redact(span["model"])
    if span.get("prompt_tokens") is not None:
        attributes["gen_ai.usage.input_tokens"] = span["prompt_tokens"]
    if span.get("completion_tokens") is not None:
        attributes["gen_ai.usage.output_tokens"] = span["completion_tokens"]
    return f"chat {url_redact(span['model'])}", attributes


def export_rag_run(run: RagRun) -> None:
    """One trace for the run: a root span (an agent invocation) and a child span per node, as they ran.
    Telemetry never fails the run: a problem building the spans is logged and the run goes on."""
    try:
        tracer = _tracer()
        if tracer is not None:
            _export(tracer, run)
    except Exception:  # noqa: BLE001 - logged; the answer matters more than its telemetry
        logger.exception("OpenTelemetry export of RAG run %s failed", run.trace_id)


def _export(tracer: trace.Tracer, run: RagRun) -> None:
    root_attributes = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": AGENT_NAME,
        **_model_attributes(run, run.model),
        "twinsite.trace_id": str(run.trace_id),
        "twinsite.rag.kind": run.kind,
        "twinsite.rag.status": run.status,
    }
    if run.input_tokens is not None:
        root_attributes["gen_ai.usage.input_tokens"] = run.input_tokens
    if run.output_tokens is not None:
        root_attributes["gen_ai.usage.output_tokens"] = run.output_tokens
    token = _run_trace_id.set(run.trace_id.int)
    try:
        root = tracer.start_span(f"invoke_agent {AGENT_NAME}", attributes=root_attributes, start_time=run.started_ns)
    finally:
        _run_trace_id.reset(token)
    if run.status == "error":
        root.set_status(trace.Status(trace.StatusCode.ERROR, run.error[:500]))
        root.set_attribute("error.type", run.error.split(":", 1)[0] or "error")
    context = trace.set_span_in_context(root)
    for span in run.spans:
        started = span.get("started_ns") or run.started_ns
        name, attributes = _node_attributes(run, span)
        child = tracer.start_span(name, context=context, attributes=attributes, start_time=started)
        child.end(end_time=started + int(span["duration_ms"] * 1_000_000))
    root.end(end_time=run.ended_ns)
