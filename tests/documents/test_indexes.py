"""The indexes retrieval depends on exist, and the planner uses them."""

import random

import pytest
from django.db import connection

from apps.documents.models import EMBEDDING_DIMENSIONS, Chunk
from tests.factories import make_chunk, make_document

pytestmark = pytest.mark.django_db


def _plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_hnsw_cosine_index_exists_on_chunk_embeddings():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'chunk_embedding_hnsw'")
        (indexdef,) = cursor.fetchone()
    assert "USING hnsw" in indexdef
    assert "vector_cosine_ops" in indexdef
    assert "m='16'" in indexdef and "ef_construction='64'" in indexdef


def test_nearest_neighbour_query_uses_the_hnsw_index():
    rng = random.Random(7)
    document = make_document()
    for _ in range(50):
        make_chunk(document=document, embedding=[rng.uniform(-1, 1) for _ in range(EMBEDDING_DIMENSIONS)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE documents_chunk")
    query = [rng.uniform(-1, 1) for _ in range(EMBEDDING_DIMENSIONS)]
    plan = _plan("SELECT id FROM documents_chunk ORDER BY embedding <=> %s::vector LIMIT 5", [str(query)])
    assert "Index Scan using chunk_embedding_hnsw" in plan, plan


def test_full_text_vector_is_kept_by_the_database_and_searched_through_gin():
    document = make_document()
    make_chunk(document=document, text="Postgres keeps the embeddings beside the words.")
    make_chunk(document=document, text="Nothing about databases here.")
    hits = Chunk.objects.extra(where=["search_vector @@ plainto_tsquery('english', %s)"], params=["embedding"])
    assert [c.text for c in hits] == ["Postgres keeps the embeddings beside the words."]
    plan = _plan("SELECT id FROM documents_chunk WHERE search_vector @@ plainto_tsquery('english', %s)", ["embedding"])
    assert "chunk_search_vector_gin" in plan, plan
