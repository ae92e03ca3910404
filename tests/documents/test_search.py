"""Hybrid chunk retrieval against the real database, with real MiniLM embeddings of a small corpus."""

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo

from apps.documents import embedding
from apps.documents.models import Chunk, Document
from apps.documents.search.author_indexes import (
    author_index_create,
    author_index_name,
    chunk_author_indexes_sync,
    existing_author_indexes,
)
from apps.documents.selectors import (
    SearchFilters,
    chunk_dense_search,
    chunk_lexical_search,
    chunk_search,
    dense_scan_settings,
)
from apps.sources.models import Source
from lib.errors import TwinsiteError
from tests.factories import make_author, make_chunk, make_document, make_source

pytestmark = pytest.mark.django_db
MODEL = embedding.model_id()

CORPUS = {
    "deploys": "Our deploys stopped failing once we pinned every dependency and rebuilt the lockfile weekly.",
    "flaky": "The flaky integration suite came down to a shared temp directory; one per worker fixed it.",
    "sourdough": "I bake sourdough on Sundays: a long cold proof gives the crumb its open texture.",
    "replication": "Error ZX-4471 means the replication slot fell behind; drop the slot and create it again.",
    "vacuum": "Postgres vacuum keeps tables lean by reclaiming the dead tuples that updates leave behind.",
    "hiking": "Hiking the ridge at dawn, the fog sat in the valley like milk in a bowl.",
}
# Shares no word with the sourdough chunk: only the embedding can connect them.
PARAPHRASE = "How can I make a loaf whose inside is airy, full of big holes?"


@pytest.fixture(scope="module")
def vectors() -> dict[str, list[float]]:
    texts = {**CORPUS, "paraphrase": PARAPHRASE, "identifier": "ZX-4471", "slot": "replication slot is lagging"}
    encoded = embedding.embedder().encode(list(texts.values()))
    return dict(zip(texts, encoded, strict=True))


def published(**fields) -> Document:
    return make_document(status=Document.Status.PROCESSED, **fields)


@pytest.fixture
def corpus(vectors) -> dict[str, int]:
    """The six chunks in one included, processed document: corpus key -> chunk id."""
    document = published()
    return {
        key: make_chunk(document=document, text=text, embedding=vectors[key], embedding_model=MODEL).pk
        for key, text in CORPUS.items()
    }


def search(vectors, query_key: str | None, query_text: str, **options):
    return chunk_search(
        embedding=vectors[query_key] if query_key else None,
        query_text=query_text,
        model_id=MODEL,
        **options,
    )


def test_dense_search_finds_the_paraphrase_that_shares_no_word_with_it(vectors, corpus):
    dense = chunk_dense_search(embedding=vectors["paraphrase"], k=3, model_id=MODEL)
    assert dense[0][0] == corpus["sourdough"]
    assert corpus["sourdough"] not in [chunk_id for chunk_id, _ in chunk_lexical_search(query_text=PARAPHRASE, k=6)]

    top = search(vectors, "paraphrase", PARAPHRASE)[0]
    assert (top.chunk_id, top.dense_rank, top.lexical_rank) == (corpus["sourdough"], 1, None)
    assert top.similarity == pytest.approx(1 - dense[0][1])
    assert top.text == CORPUS["sourdough"]


def test_lexical_search_finds_the_rare_identifier(vectors, corpus):
    assert [chunk_id for chunk_id, _ in chunk_lexical_search(query_text="ZX-4471", k=5)] == [corpus["replication"]]
    top = search(vectors, "identifier", "ZX-4471")[0]
    assert (top.chunk_id, top.lexical_rank) == (corpus["replication"], 1)


def test_fusion_puts_first_the_chunk_both_lists_rank_first_and_scores_by_weighted_rrf(vectors, corpus):
    hits = search(vectors, "slot", "replication slot", dense_weight=2.0, lexical_weight=0.5, rrf_k=10)
    assert (hits[0].chunk_id, hits[0].dense_rank, hits[0].lexical_rank) == (corpus["replication"], 1, 1)
    assert hits[0].score == pytest.approx(2.0 / 11 + 0.5 / 11)
    for hit in hits:
        expected = (2.0 / (10 + hit.dense_rank) if hit.dense_rank else 0) + (
            0.5 / (10 + hit.lexical_rank) if hit.lexical_rank else 0
        )
        assert hit.score == pytest.approx(expected)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert len(search(vectors, "slot", "replication slot", k=2)) == 2


def test_a_zero_weight_does_not_even_run_that_list(vectors, corpus):
    with CaptureQueriesContext(connection) as queries:
        lexical_only = search(vectors, "slot", "replication slot", dense_weight=0)
    assert not any("<=>" in query["sql"] for query in queries.captured_queries)
    assert [hit.chunk_id for hit in lexical_only] == [corpus["replication"]]
    assert lexical_only[0].similarity is None and lexical_only[0].dense_rank is None

    with CaptureQueriesContext(connection) as queries:
        dense_only = search(vectors, "slot", "replication slot", lexical_weight=0)
    assert not any("websearch_to_tsquery" in query["sql"] for query in queries.captured_queries)
    assert len(dense_only) == len(CORPUS) and all(hit.lexical_rank is None for hit in dense_only)

    with CaptureQueriesContext(connection) as queries:
        without_embedding = search(vectors, None, "replication slot")
    assert not any("<=>" in query["sql"] for query in queries.captured_queries)
    assert [hit.chunk_id for hit in without_embedding] == [corpus["replication"]]

    with pytest.raises(TwinsiteError, match="not both 0"):
        search(vectors, "slot", "replication slot", dense_weight=0, lexical_weight=0)


def test_excluded_gone_unprocessed_and_other_model_chunks_never_surface(vectors):
    def add(document: Document, model_id: str = MODEL) -> int:
        text, vector = CORPUS["sourdough"], vectors["sourdough"]
        return make_chunk(document=document, text=text, embedding=vector, embedding_model=model_id).pk

    visible = add(published())
    hidden = [
        add(published(curation_state=Document.Curation.EXCLUDED, exclusion_reason="Off topic")),
        add(published(gone_at=timezone.now())),
        add(make_document(status=Document.Status.PENDING)),
        add(make_document(status=Document.Status.DUPLICATE)),
        add(make_document(status=Document.Status.FAILED)),
    ]
    other_model = add(published(), model_id="another/embedding-model")

    hits = search(vectors, "sourdough", "sourdough crumb", k=20)
    assert [hit.chunk_id for hit in hits] == [visible]
    dense = chunk_dense_search(embedding=vectors["sourdough"], k=20, model_id=MODEL)
    assert [chunk_id for chunk_id, _ in dense] == [visible]
    # On its own, full-text search is model-blind (words need no embedding); curation still applies.
    lexical = {chunk_id for chunk_id, _ in chunk_lexical_search(query_text="sourdough", k=20)}
    assert lexical == {visible, other_model}
    assert not lexical & set(hidden)


def test_filters_by_author_source_kind_and_published_range(vectors):
    alice, bob = make_author(name="Alice"), make_author(name="Bob")
    alice_blog = make_source(author=alice, kind=Source.Kind.ARTICLE)
    bob_repo = make_source(author=bob, kind=Source.Kind.GITHUB)
    bob_blog = make_source(author=bob, kind=Source.Kind.FEED)
    for name, source, date in [
        ("alice-jan", alice_blog, datetime(2024, 1, 10, tzinfo=UTC)),
        ("bob-jun", bob_repo, datetime(2024, 6, 1, tzinfo=UTC)),
        ("bob-undated", bob_blog, None),
    ]:
        document = published(source=source, published_at=date, title=name)
        make_chunk(document=document, text=CORPUS["vacuum"], embedding=vectors["vacuum"], embedding_model=MODEL)

    def found(**filters) -> set[str]:
        hits = search(vectors, "vacuum", "vacuum dead tuples", filters=SearchFilters(**filters))
        return {hit.title for hit in hits}

    assert found() == {"alice-jan", "bob-jun", "bob-undated"}
    assert found(author_ids=(bob.pk,)) == {"bob-jun", "bob-undated"}
    assert found(source_kinds=("github",)) == {"bob-jun"}
    assert found(source_kinds=("article", "feed")) == {"alice-jan", "bob-undated"}
    assert found(source_kinds=("warehouse",)) == set()
    assert found(source_ids=(bob_blog.pk,), source_kinds=("github",)) == set()
    assert found(author_ids=(alice.pk,), source_kinds=("github",)) == set()
    june = {"published_after": datetime(2024, 5, 1, tzinfo=UTC), "published_before": datetime(2024, 7, 1, tzinfo=UTC)}
    assert found(**june) == {"bob-jun"}
    # Half-open range: a document published exactly at published_before is outside it; undated ones never match.
    assert found(published_before=datetime(2024, 6, 1, tzinfo=UTC)) == {"alice-jan"}
    assert found(published_after=datetime(2024, 6, 1, tzinfo=UTC)) == {"bob-jun"}

    hit = search(vectors, "vacuum", "vacuum", filters=SearchFilters(source_kinds=("github",)))[0]
    assert (hit.author_name, hit.source_kind, hit.published_at) == ("Bob", "github", datetime(2024, 6, 1, tzinfo=UTC))
    assert hit.url.startswith(bob_repo.url) and hit.document_id == Document.objects.get(title="bob-jun").pk


def test_search_settings_do_not_leak_into_the_callers_transaction(vectors, corpus):
    with transaction.atomic(), connection.cursor() as cursor:
        chunk_dense_search(embedding=vectors["paraphrase"], k=3, model_id=MODEL)
        cursor.execute("SELECT current_setting('hnsw.iterative_scan'), current_setting('hnsw.ef_search')")
        assert cursor.fetchone() == ("off", "40")


def test_a_long_sections_second_chunk_gives_way_to_another_sections_best():
    """Chunks of one section share its headings; past the first, they rank behind other sections' best."""
    texts = {
        "first": "# Vacuum\n\nPostgres vacuum reclaims the dead tuples that updates leave behind.",
        "second": "# Vacuum\n\nRun vacuum after bulk deletes, so that Postgres reclaims the dead tuples at once.",
        "other": "# Indexes\n\nA vacuum also updates the visibility map that index-only scans rely on.",
    }
    document = published()
    vectors = embedding.embedder().encode(list(texts.values()))
    ids = {
        key: make_chunk(document=document, text=text, embedding=vector, embedding_model=MODEL).pk
        for (key, text), vector in zip(texts.items(), vectors, strict=True)
    }
    query = "how does postgres vacuum reclaim dead tuples"
    (vector,) = embedding.embedder().encode([query])
    crowded = chunk_search(embedding=vector, query_text=query, model_id=MODEL, per_section=None)
    assert [hit.chunk_id for hit in crowded] == [ids["first"], ids["second"], ids["other"]]

    spread = chunk_search(embedding=vector, query_text=query, model_id=MODEL)
    assert [hit.chunk_id for hit in spread] == [ids["first"], ids["other"], ids["second"]]
    second = crowded[1]
    assert spread[2].score == pytest.approx(0.1 * second.score)
    with pytest.raises(TwinsiteError, match="per_section=0"):
        chunk_search(embedding=vector, query_text=query, model_id=MODEL, per_section=0)


def test_a_query_embedding_of_the_wrong_size_is_a_clear_error(corpus):
    with pytest.raises(TwinsiteError, match="3 dimensions; chunks have 384"):
        chunk_dense_search(embedding=[0.1, 0.2, 0.3], k=3, model_id=MODEL)


def load_clustered_chunks(documents: list[Document], *, per_document: int, seed: int) -> np.ndarray:
    """Clustered unit vectors (each document on one of 50 topics), loaded by binary COPY; the HNSW index is
    rebuilt afterwards, as after a bulk import, since growing it row by row takes far longer."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, 384))
    topic = np.repeat(rng.integers(0, 50, len(documents)), per_document)
    points = centres[topic] + rng.standard_normal((len(topic), 384)) * 0.9
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    with connection.cursor() as cursor:
        # Check foreign keys row by row: CREATE INDEX refuses to run while deferred checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DROP INDEX chunk_embedding_hnsw")
        raw = cursor.cursor
        # pgvector's binary dumper on this cursor only: Django's own adapters stay as they are.
        register_vector_info(raw, TypeInfo.fetch(raw.connection, "vector"))
        with raw.copy(
            "COPY documents_chunk (document_id, ordinal, text, token_count, content_hash, embedding, embedding_model,"
            " created_at) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["bigint", "integer", "text", "integer", "varchar", "vector", "varchar", "timestamptz"])
            now = timezone.now()
            for n, point in enumerate(points):
                copy.write_row((documents[n // per_document].pk, n % per_document, "-", 1, "-", point, MODEL, now))
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            "CREATE INDEX chunk_embedding_hnsw ON documents_chunk USING hnsw (embedding vector_cosine_ops)"
            " WITH (m = 16, ef_construction = 64)"
        )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("ANALYZE documents_chunk")
        cursor.execute("ANALYZE documents_document")
    return points


@pytest.fixture
def one_author_of_twenty():
    """40k clustered chunks in 4k documents by 20 authors. The planner moves to the HNSW index for one
    author's share (5%) somewhere between 1k and 2k matching rows: this is about the smallest table that shows it.

    Returns the author, a query vector near one of their chunks, and each of their chunks' exact cosine
    distance to it with its document id.
    """
    sources = [make_source(author=make_author()) for _ in range(20)]
    documents = Document.objects.bulk_create(
        Document(source=s, author=s.author, url=f"{s.url}/{n}", content_hash="-", status=Document.Status.PROCESSED)
        for n, s in zip(range(4000), itertools.cycle(sources), strict=False)
    )
    points = load_clustered_chunks(documents, per_document=10, seed=5)
    author = sources[3].author
    row_of = {(document.pk, ordinal): n * 10 + ordinal for n, document in enumerate(documents) for ordinal in range(10)}
    own = Chunk.objects.filter(document__author=author).order_by("id").values_list("id", "document_id", "ordinal")
    query = points[row_of[own[170][1:]]] + np.random.default_rng(1).standard_normal(384).astype(np.float32) * 0.02
    query /= np.linalg.norm(query)
    truth = {chunk_id: (1 - float(points[row_of[(doc, ordinal)]] @ query), doc) for chunk_id, doc, ordinal in own}
    return author, query.tolist(), truth


def nearest(truth: dict[int, tuple[float, int]], k: int) -> list[int]:
    return sorted(truth, key=lambda chunk_id: (truth[chunk_id][0], chunk_id))[:k]


def explain(sql: str) -> str:
    """The plan of ``sql`` under the settings the dense search runs with."""
    with transaction.atomic(), connection.cursor() as cursor:
        for name, value in dense_scan_settings(10).items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def test_dense_search_filtered_to_one_author_walks_the_hnsw_index_and_falls_back_to_exact_search(
    one_author_of_twenty,
):
    author, query, truth = one_author_of_twenty
    by_author = SearchFilters(author_ids=(author.pk,))
    with CaptureQueriesContext(connection) as queries:
        hits = chunk_dense_search(embedding=query, filters=by_author, k=10, model_id=MODEL)
    nearest_sql = next(q["sql"] for q in queries.captured_queries if "<=>" in q["sql"])
    assert "Index Scan using chunk_embedding_hnsw" in explain(nearest_sql)
    assert not any("WITH matching" in q["sql"] for q in queries.captured_queries), "the index scan fell short"
    found, exact = [chunk_id for chunk_id, _ in hits], nearest(truth, 10)
    assert found[0] == exact[0] and len(set(found) & set(exact)) >= 9

    # The author's writing is excluded but for one document, and the statistics do not know yet: the
    # planner still walks the index, which can find only 10 rows. Asked for 20, the exact search answers.
    kept = truth[exact[0]][1]
    Document.objects.filter(author=author).exclude(pk=kept).update(curation_state=Document.Curation.EXCLUDED)
    with CaptureQueriesContext(connection) as queries:
        hits = chunk_dense_search(embedding=query, filters=by_author, k=20, model_id=MODEL)
    assert "Index Scan using chunk_embedding_hnsw" in explain(
        next(q["sql"] for q in queries.captured_queries if "<=>" in q["sql"])
    )
    assert any("WITH matching" in q["sql"] for q in queries.captured_queries)
    assert [chunk_id for chunk_id, _ in hits] == nearest({c: t for c, t in truth.items() if t[1] == kept}, 20)


def test_filtered_to_an_author_with_their_own_index_the_search_walks_it_and_finds_the_exact_nearest(
    one_author_of_twenty,
):
    author, query, truth = one_author_of_twenty
    author_index_create(author.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE documents_chunk")
    by_author = SearchFilters(author_ids=(author.pk,))
    with CaptureQueriesContext(connection) as queries:
        hits = chunk_dense_search(embedding=query, filters=by_author, k=10, model_id=MODEL)
    nearest_sql = next(q["sql"] for q in queries.captured_queries if "<=>" in q["sql"])
    assert f"Index Scan using {author_index_name(author.pk)}" in explain(nearest_sql)
    assert [chunk_id for chunk_id, _ in hits] == nearest(truth, 10)


def test_authors_get_an_index_once_they_have_enough_chunks_and_lose_it_with_their_last_chunk(vectors):
    prolific, occasional = make_author(), make_author()
    for author, count in ((prolific, 3), (occasional, 1)):
        document = published(source=make_source(author=author), author=author)
        for n in range(count):
            make_chunk(document=document, text=f"chunk {n}", embedding=vectors["vacuum"], embedding_model=MODEL)
    assert chunk_author_indexes_sync(min_chunks=2) == {"created": [prolific.pk], "dropped": []}
    assert prolific.pk in existing_author_indexes() and occasional.pk not in existing_author_indexes()
    assert chunk_author_indexes_sync(min_chunks=2) == {"created": [], "dropped": []}

    Document.objects.filter(author=prolific).delete()
    assert chunk_author_indexes_sync(min_chunks=2) == {"created": [], "dropped": [prolific.pk]}
    assert prolific.pk not in existing_author_indexes()


def test_a_chunk_keeps_its_documents_author_even_when_the_document_changes_hands(vectors):
    first, second = make_author(), make_author()
    document = published(source=make_source(author=first), author=first)
    chunk = make_chunk(document=document, text="Vacuum reclaims dead tuples.", embedding=vectors["vacuum"],
                       embedding_model=MODEL)  # fmt: skip
    assert Chunk.objects.get(pk=chunk.pk).author_id == first.pk
    Chunk.objects.filter(pk=chunk.pk).update(author_id=second.pk)  # a stray write cannot detach it
    assert Chunk.objects.get(pk=chunk.pk).author_id == first.pk

    Document.objects.filter(pk=document.pk).update(author=second)
    assert Chunk.objects.get(pk=chunk.pk).author_id == second.pk
    by_second = SearchFilters(author_ids=(second.pk,))
    assert [hit.chunk_id for hit in search(vectors, "vacuum", "vacuum", filters=by_second)] == [chunk.pk]
    assert search(vectors, "vacuum", "vacuum", filters=SearchFilters(author_ids=(first.pk,))) == []


def test_an_author_index_of_the_older_full_precision_form_is_not_used_and_the_sync_rebuilds_it(vectors):
    author = make_author()
    document = published(source=make_source(author=author), author=author)
    for n in range(2):
        make_chunk(document=document, text=f"chunk {n}", embedding=vectors["vacuum"], embedding_model=MODEL)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # CREATE INDEX waits for no deferred check
        cursor.execute(
            f"CREATE INDEX {author_index_name(author.pk)} ON documents_chunk"
            f" USING hnsw (embedding vector_cosine_ops) WHERE author_id = {author.pk}"
        )
    assert author.pk not in existing_author_indexes()
    assert chunk_author_indexes_sync(min_chunks=2) == {"created": [author.pk], "dropped": []}
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [author_index_name(author.pk)])
        assert "halfvec_cosine_ops" in cursor.fetchone()[0]
    assert author.pk in existing_author_indexes()


def test_an_author_index_a_concurrent_build_left_invalid_is_not_used_and_the_sync_rebuilds_it(vectors):
    author = make_author()
    document = published(source=make_source(author=author), author=author)
    for n in range(2):
        make_chunk(document=document, text=f"chunk {n}", embedding=vectors["vacuum"], embedding_model=MODEL)
    assert chunk_author_indexes_sync(min_chunks=2) == {"created": [author.pk], "dropped": []}
    with connection.cursor() as cursor:  # what a cancelled or killed CREATE INDEX CONCURRENTLY leaves behind
        cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
                       [author_index_name(author.pk)])  # fmt: skip
    assert author.pk not in existing_author_indexes()
    assert chunk_author_indexes_sync(min_chunks=2) == {"created": [author.pk], "dropped": []}
    assert author.pk in existing_author_indexes()
