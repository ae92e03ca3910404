"""The RAG graph on a crawled corpus: each node alone, then end to end with the real local model."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from langgraph.runtime import Runtime

from apps.documents.models import Document
from apps.monitoring.models import Trace
from apps.rag import prompts
from apps.rag.configuration import RagConfiguration
from apps.rag.nodes.rerank import rerank
from apps.rag.nodes.retrieve import retrieve
from apps.rag.nodes.rewrite import rewrite
from apps.rag.providers import ProviderUnavailable
from apps.rag.providers.tgi import TGIProvider
from apps.rag.services import rag_answer
from apps.sources.models import Author
from tests.rag.corpus import crawl_corpus, write_corpus
from tests.rag.servers import unused_url

# Committed data: the retrieve node runs its searches concurrently, each in a thread with its own connection.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def corpus(tmp_path, serve_dir, crawl_settings):
    folder = tmp_path / "blog"
    write_corpus(folder)
    return crawl_corpus(folder, serve_dir(folder))


def run_node(node, state, **configuration):
    tokens: list = []
    result = async_to_sync(node)(state, Runtime(context=RagConfiguration(**configuration), stream_writer=tokens.append))
    return result, tokens


def test_retrieve_finds_the_post_about_the_question_and_never_an_excluded_one(corpus):
    state = {"question": "How do you make sure your database backups can be restored?"}
    state["queries"] = [state["question"], "restore test of pg_dump backups"]
    result, _ = run_node(retrieve, state)
    top = result["candidates"][0]
    assert top["title"] == "How I back up PostgreSQL"
    assert len({c["chunk_id"] for c in result["candidates"]}) == len(result["candidates"])  # de-duplicated
    span = result["spans"][0]
    assert span["node"] == "retrieve" and span["chunk_ids"][0] == top["chunk_id"] and span["duration_ms"] > 0

    Document.objects.filter(title="How I back up PostgreSQL").update(curation_state="excluded")
    result, _ = run_node(retrieve, state)
    assert all(c["title"] != "How I back up PostgreSQL" for c in result["candidates"])


def test_retrieve_honours_the_author_filter(corpus):
    Author.objects.create(name="Someone Else")
    state = {"question": "sourdough starter", "queries": ["sourdough starter"]}
    other = Author.objects.get(name="Someone Else")
    result, _ = run_node(retrieve, {**state, "filters": {"author_ids": [other.pk]}})
    assert result["candidates"] == []
    result, _ = run_node(retrieve, {**state, "filters": {"unknown_author": "Nobody"}})
    assert result["candidates"] == []


def test_without_a_reranker_the_fused_order_passes_and_the_trace_says_so(corpus):
    state = {"question": "climbing the Stelvio", "queries": ["climbing the Stelvio"]}
    candidates = run_node(retrieve, state)[0]["candidates"]
    result, _ = run_node(rerank, {**state, "candidates": candidates}, use_reranker=False, final_k=2)
    assert [c["chunk_id"] for c in result["contexts"]] == [c["chunk_id"] for c in candidates[:2]]
    assert [c["n"] for c in result["contexts"]] == [1, 2]
    assert result["relevant"] is True
    assert "no reranker" in result["spans"][0]["details"]["note"]


def test_a_follow_up_question_is_rewritten_with_the_conversation(corpus):
    history = [
        {"role": "user", "content": "How do you back up PostgreSQL?"},
        {"role": "assistant", "content": "Nightly pg_dump from the replica, copied to another region."},
    ]
    result, _ = run_node(rewrite, {"question": "And how often do you test them?", "history": history}, n_queries=2)
    assert result["standalone_question"] != "And how often do you test them?"
    assert result["queries"][0] == result["standalone_question"]
    assert 1 <= len(result["queries"]) <= 3
    assert result["spans"][0]["model"]


def test_end_to_end_answer_cites_the_right_post_and_is_traced(corpus):
    tokens: list[str] = []
    result = rag_answer(
        question="How are the PostgreSQL backups tested?",
        configuration=RagConfiguration(n_queries=1, max_tokens=48),
        on_token=tokens.append,
    )
    assert result.relevant and result.answer and result.answer != prompts.NO_ANSWER
    assert len(tokens) > 1  # streamed
    assert result.citations and result.citations[0]["title"] == "How I back up PostgreSQL"
    assert set(result.timings_ms) == {"rewrite", "self_query", "retrieve", "rerank", "generate", "postprocess"}

    trace = Trace.objects.get(pk=result.trace_id)
    assert trace.status == "ok" and trace.answer == result.answer
    spans = list(trace.spans.order_by("ordinal"))
    assert [s.node for s in spans] == ["rewrite", "self_query", "retrieve", "rerank", "generate", "postprocess"]
    generate_span = spans[4]
    assert generate_span.model and generate_span.prompt_tokens and generate_span.completion_tokens
    assert spans[2].chunk_ids and len(spans[2].scores) == len(spans[2].chunk_ids)


def test_a_question_the_sources_do_not_cover_is_not_answered(corpus):
    result = rag_answer(
        question="What is the melting point of tungsten in kelvin?",
        configuration=RagConfiguration(rewrite=False, relevance_threshold=0.3),
    )
    assert result.answer == prompts.NO_ANSWER and result.citations == [] and not result.relevant


def test_a_dead_model_backend_gives_a_clear_error_and_a_failed_trace(corpus):
    dead = TGIProvider(unused_url(), timeout_s=2)
    with pytest.raises(ProviderUnavailable, match="127.0.0.1"):
        rag_answer(question="How do you back up PostgreSQL?", configuration=RagConfiguration(provider=dead))
    trace = Trace.objects.get()
    assert trace.status == "error" and "ProviderUnavailable" in trace.error


def test_ask_command_prints_json_with_citations_and_timings(corpus, capsys, settings):
    call_command("ask", "Which pass did Ada climb by bike?", "--author", "ada", "--json")
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) >= {"answer", "citations", "filters", "queries", "timings_ms"}
    assert "Cycling over the Alps" in [c["title"] for c in payload["citations"]]
    assert set(payload["citations"][0]) == {"document_url", "title", "chunk_id", "score"}
    assert payload["timings_ms"]["retrieve"] > 0
