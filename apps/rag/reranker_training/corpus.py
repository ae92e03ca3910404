"""Reads for reranker training: the retrievable chunks, their stored vectors, and full-text ranks of texts."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from apps.documents.models import SEARCH_CONFIG, Chunk, Document


@dataclass(frozen=True)
class CorpusChunk:
    chunk_id: int
    document_id: int
    text: str


def retrievable_chunks(*, model_id: str) -> list[CorpusChunk]:
    """Every chunk retrieval can return: of an included, live, processed document, embedded by ``model_id``."""
    rows = (
        Chunk.objects.filter(
            document__curation_state=Document.Curation.INCLUDED,
            document__gone_at__isnull=True,
            document__status=Document.Status.PROCESSED,
            embedding_model=model_id,
            embedding__isnull=False,
        )
        .order_by("document_id", "ordinal")
        .values_list("pk", "document_id", "text")
    )
    return [CorpusChunk(chunk_id, document_id, text) for chunk_id, document_id, text in rows]


def document_titles(document_ids: Sequence[int]) -> dict[int, str]:
    return dict(Document.objects.filter(pk__in=document_ids).values_list("pk", "title"))


def lexical_order(*, query: str, texts: Sequence[str]) -> list[int]:
    """Positions of the texts that match the query's words, best first, ranked as chunk search ranks them.

    The same ``websearch_to_tsquery`` and ``ts_rank_cd`` as the lexical search, but over the given texts,
    so that a passage that is not stored as such (a chunk less one sentence) can be ranked too.
    """
    if not query.strip() or not texts:
        return []
    tsquery = f"websearch_to_tsquery('{SEARCH_CONFIG}', %s)"
    document = f"to_tsvector('{SEARCH_CONFIG}', t.text)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.n - 1 FROM unnest(%s::text[]) WITH ORDINALITY AS t(text, n)"
            f" WHERE {document} @@ {tsquery} ORDER BY ts_rank_cd({document}, {tsquery}) DESC, t.n",
            [list(texts), query, query],
        )
        return [int(position) for (position,) in cursor.fetchall()]
