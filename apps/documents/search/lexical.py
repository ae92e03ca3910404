"""Chunks matching the words of a query, by PostgreSQL full-text search through the GIN index.

``websearch_to_tsquery`` takes what people type (quoted phrases, ``or``, ``-word``) without ever
failing on syntax; ranks are ``ts_rank_cd`` (cover density: matched words close together rank higher).
"""

from django.db import connection

from apps.documents.models import SEARCH_CONFIG
from apps.documents.search.filters import eligible_chunks_sql
from apps.documents.search.types import NO_FILTERS, SearchFilters
from lib.errors import TwinsiteError


def chunk_lexical_search(
    *, query_text: str, filters: SearchFilters = NO_FILTERS, k: int, model_id: str | None = None
) -> list[tuple[int, float]]:
    """(chunk id, ts_rank_cd) of the ``k`` best-matching chunks, best first; ``model_id`` limits the
    chunks to those embedded by that model (None: any chunk, embedded or not)."""
    if k < 1:
        raise TwinsiteError(f"Ask for at least one chunk (k={k}).")
    eligible = eligible_chunks_sql(filters)
    if not query_text.strip() or eligible is None:
        return []
    source, params = eligible
    by_model, model_params = ("AND c.embedding_model = %s", [model_id]) if model_id is not None else ("", [])
    query = f"websearch_to_tsquery('{SEARCH_CONFIG}', %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, ts_rank_cd(c.search_vector, {query}) AS rank {source} {by_model}"
            f" AND c.search_vector @@ {query} ORDER BY rank DESC, c.id LIMIT %s",
            [query_text, *params, *model_params, query_text, k],
        )
        return [(chunk_id, float(rank)) for chunk_id, rank in cursor.fetchall()]
