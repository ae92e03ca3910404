"""Nearest chunks by cosine distance through the HNSW index, with the filters applied during the scan.

A plain HNSW scan yields ``hnsw.ef_search`` candidates and the filters then run on those, so a filter
that keeps 5% of the rows leaves ~2 of 40. pgvector's iterative scan resumes the graph search until
enough rows pass the filters (or ``hnsw.max_scan_tuples`` is reached), which keeps the index usable
for filtered queries; ``relaxed_order`` is the faster, higher-recall mode, and a materialised CTE puts
its rows back in exact distance order. The planner itself prefers an exact scan when it expects few
matching rows (below ~1-2k); when the index scan still comes back with fewer than ``k`` rows, the
filter matches so few that an exact search over them is cheap, and that answers instead.

Filtered to one author with many chunks, the search walks that author's own partial index
(author_indexes.py) instead of wading through everybody's chunks near the query, which missed
the nearest chunks of an author asked about a topic they never wrote on. That index holds half-precision
vectors: the search orders by the half-precision distance to use it, takes twice ``k`` rows, and
re-ranks them by the full-precision distance, so the order is the one an exact search gives wherever
two distances differ by more than half precision's rounding (~1e-3).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from apps.documents.models import EMBEDDING_DIMENSIONS
from apps.documents.search.author_indexes import INDEX_KEY, indexed_authors
from apps.documents.search.filters import eligible_chunks_sql, single_author
from apps.documents.search.types import NO_FILTERS, SearchFilters
from lib.errors import TwinsiteError

# bench/retrieval.py, 100k clustered vectors: ef_search 40 gave recall@10 0.92 unfiltered, 64 gave
# 0.97 and 100 gave 0.98, for ~0.1 ms more; filtered to one author of 20, 0.94 / 0.96 / 0.96.
EF_SEARCH = 100
EF_SEARCH_MAX = 1000  # pgvector's upper bound
ITERATIVE_SCAN = "relaxed_order"  # strict_order measured lower recall (0.90) and a 28 ms p99, filtered
MAX_SCAN_TUPLES = 20_000  # pgvector's default; past it the scan only returns candidates it has already seen
# Filtered to one author, the scan walks that author's own index (author_indexes.py). Asked about a topic
# the author never wrote on, their nearest chunks are all about equally far, which a graph search ranks
# poorly: bench/retrieval.py --home-share 0.7 measured recall@10 0.94 at ef_search 100, 0.98 at 200.
AUTHOR_EF_SEARCH = 200


def dense_scan_settings(k: int = 10, *, one_author: bool = False) -> dict[str, str]:
    """The pgvector settings a dense search for ``k`` rows runs with (ef_search is never below k)."""
    ef_search = AUTHOR_EF_SEARCH if one_author else EF_SEARCH
    return {
        "hnsw.iterative_scan": ITERATIVE_SCAN,
        "hnsw.ef_search": str(min(max(ef_search, k), EF_SEARCH_MAX)),
        "hnsw.max_scan_tuples": str(MAX_SCAN_TUPLES),
    }


@contextmanager
def _hnsw_scan(k: int, *, one_author: bool = False) -> Iterator[CursorWrapper]:
    """A cursor whose HNSW scans use ``dense_scan_settings(k, one_author=...)``, for this block only.

    The settings are SET LOCAL and the block always ends in a rollback (it only reads): at the top
    level that ends the transaction; inside a caller's transaction it rolls back to the block's
    savepoint, which undoes SET LOCAL too, so the settings never leak into the caller's work.
    """
    settings = dense_scan_settings(k, one_author=one_author)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(settings)),
            [item for pair in settings.items() for item in pair],
        )
        yield cursor
        transaction.set_rollback(True)


def vector_literal(embedding: Sequence[float]) -> str:
    if len(embedding) != EMBEDDING_DIMENSIONS:
        raise TwinsiteError(f"The query embedding has {len(embedding)} dimensions; chunks have {EMBEDDING_DIMENSIONS}.")
    return "[" + ",".join(map(repr, map(float, embedding))) + "]"


def chunk_dense_search(
    *, embedding: Sequence[float], filters: SearchFilters = NO_FILTERS, k: int, model_id: str
) -> list[tuple[int, float]]:
    """(chunk id, cosine distance) of the ``k`` nearest chunks embedded by ``model_id``, nearest first."""
    if k < 1:
        raise TwinsiteError(f"Ask for at least one chunk (k={k}).")
    vector = vector_literal(embedding)
    eligible = eligible_chunks_sql(filters)
    if eligible is None:
        return []
    source, params = eligible
    author_id = single_author(filters)
    with _hnsw_scan(k, one_author=author_id is not None) as cursor:
        if author_id is not None and author_id in indexed_authors():
            cursor.execute(
                "WITH nearest AS MATERIALIZED ("
                f" SELECT c.id, c.embedding <=> %s::vector AS distance {source} AND c.embedding_model = %s"
                f" ORDER BY (c.{INDEX_KEY}) <=> %s::halfvec LIMIT %s"
                ") SELECT id, distance FROM nearest ORDER BY distance, id LIMIT %s",
                [vector, *params, model_id, vector, 2 * k, k],
            )
        else:
            cursor.execute(
                "WITH nearest AS MATERIALIZED ("
                f" SELECT c.id, c.embedding <=> %s::vector AS distance {source} AND c.embedding_model = %s"
                " ORDER BY distance LIMIT %s"
                ") SELECT id, distance FROM nearest ORDER BY distance, id",
                [vector, *params, model_id, k],
            )
        rows = cursor.fetchall()
    if len(rows) < k:
        rows = _exact_nearest(vector, source, params, k=k, model_id=model_id)
    return [(chunk_id, float(distance)) for chunk_id, distance in rows]


def _exact_nearest(vector: str, source: str, params: list, *, k: int, model_id: str) -> list[tuple[int, float]]:
    """Every matching row's distance, sorted; computing it in a CTE keeps the planner off the vector index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH matching AS MATERIALIZED ("
            f" SELECT c.id, c.embedding <=> %s::vector AS distance {source} AND c.embedding_model = %s"
            " AND c.embedding IS NOT NULL"
            ") SELECT id, distance FROM matching ORDER BY distance, id LIMIT %s",
            [vector, *params, model_id, k],
        )
        return cursor.fetchall()
