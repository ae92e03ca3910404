"""Each RAG run as an OpenTelemetry trace, sent over OTLP/HTTP to a real receiver on 127.0.0.1."""

import uuid

import pytest

from apps.monitoring.models import Trace
from apps.rag.configuration import RagConfiguration
from apps.rag.services import rag_answer
from lib.telemetry import tracing
from tests.monitoring.otlp_receiver import serve_otlp
from tests.rag.corpus import crawl_corpus, write_corpus
from tests.rag.scripted import ScriptedProvider

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "How are the PostgreSQL backups tested?"
ANSWER = "Once a month I restore the latest dump into a scratch server and run the test suite against it."


@pytest.fixture
def corpus(tmp_path, serve_dir, crawl_settings):
    folder = tmp_path / "blog"
    write_corpus(folder)
    return crawl_corpus(folder, serve_dir(folder))


def ask():
    provider = ScriptedProvider(answer=ANSWER, name="openai")
    configuration = RagConfiguration(provider=provider, max_tokens=64, temperature=0.0)
    return rag_answer(question=QUESTION, configuration=configuration, kind="chat")


def test_a_run_is_one_trace_with_a_genai_span_per_node_only_when_an_endpoint_is_set(corpus, monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    with serve_otlp() as receiver:
        ask()
        tracing.flush()
        assert receiver.spans == []  # not configured: nothing is sent

        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer otlp-key-1")
        result = ask()
        assert tracing.flush()

    trace = Trace.objects.get(pk=result.trace_id)
    assert {span.trace_id for span in receiver.spans} == {uuid.UUID(result.trace_id).hex}  # the admin's id
    (root,) = [span for span in receiver.spans if not span.parent_span_id]
    assert root.name == "invoke_agent twin_rag" and root.service_name == "twinsite"
    assert root.attributes == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "twin_rag",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "scripted-openai",
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.temperature": 0.0,
        "gen_ai.usage.input_tokens": trace.prompt_tokens,
        "gen_ai.usage.output_tokens": trace.completion_tokens,
        "twinsite.trace_id": result.trace_id,
        "twinsite.rag.kind": "chat",
        "twinsite.rag.status": "ok",
    }
    children = sorted((s for s in receiver.spans if s.parent_span_id == root.span_id), key=lambda s: s.start_ns)
    assert len(children) == len(receiver.spans) - 1
    assert [child.attributes["twinsite.rag.node"] for child in children] == [s["node"] for s in result.spans]
    for child, recorded in zip(children, result.spans, strict=True):
        assert child.end_ns - child.start_ns == int(recorded["duration_ms"] * 1_000_000)
        assert root.start_ns <= child.start_ns and child.end_ns <= root.end_ns

    (generate,) = [child for child in children if child.attributes["twinsite.rag.node"] == "generate"]
    recorded = next(s for s in result.spans if s["node"] == "generate")
    assert generate.name == "chat scripted-openai"
    assert {k: v for k, v in generate.attributes.items() if k.startswith("gen_ai.")} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "scripted-openai",
        "gen_ai.response.model": "scripted-openai",
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.temperature": 0.0,
        "gen_ai.usage.input_tokens": recorded["prompt_tokens"],
        "gen_ai.usage.output_tokens": recorded["completion_tokens"],
    }
    (retrieve,) = [child for child in children if child.attributes["twinsite.rag.node"] == "retrieve"]
    assert retrieve.name == "retrieve" and retrieve.attributes["twinsite.rag.chunk_ids"]

    assert receiver.headers[-1]["authorization"] == "Bearer otlp-key-1"  # the collector's key goes as a header
    words = [str(v) for span in receiver.spans for v in span.attributes.values()]
    assert not any(QUESTION in w or ANSWER[:40] in w or "otlp-key-1" in w for w in words)
