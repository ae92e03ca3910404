"""One HNSW index per author with many chunks, so a search filtered to that author walks their chunks only.

Through the shared index, a search filtered to one author wades through everybody else's chunks near
the query; when the author writes on their own topics and is asked about another one, their nearest
chunks lie far from where the graph search looks, and it misses them. A partial index
``WHERE author_id = N`` is a graph of that author's chunks alone, which the planner picks for a query
with ``c.author_id = N``. An author with fewer chunks than AUTHOR_INDEX_MIN_CHUNKS has none: an exact
scan of their rows through the ``chunk_author`` btree is as fast.

The author indexes hold the vectors in half precision (``embedding::halfvec``): half the memory of the
shared index's full-precision vectors, so that more of the shared index and the authors' stays in the
same buffers, for the same recall (bench/retrieval.py --home-share 0.7, filtered off-topic, one after the
other on one machine with 128 MB of shared_buffers: recall@10 0.985 either way; p50 2.67 ms against 3.43 ms,
p99 3.11 ms against 6.40 ms).
The search re-ranks what the index finds by the full-precision distance (dense.py).
"""

import time

from django.db import connection

from apps.documents.models import EMBEDDING_DIMENSIONS, Chunk

AUTHOR_INDEX_MIN_CHUNKS = 1000
INDEX_PREFIX = "chunk_hnsw_author_"
INDEX_KEY = f"embedding::halfvec({EMBEDDING_DIMENSIONS})"  # what the search orders by to use the index
INDEX_OPCLASS = "halfvec_cosine_ops"  # an index without it is of an older form, rebuilt by the next sync
SYNC_LOCK = 0x7477_6169  # pg advisory lock key: one sync at a time (two CREATE INDEX of one name would clash)
CHUNK_TABLE = Chunk._meta.db_table
# How long a process trusts its list of indexed authors. A stale list costs speed, never results: an
# author indexed since is searched through the shared index; one whose index is gone, exactly.
KNOWN_FOR_S = 30.0
_known: tuple[float, frozenset[int]] | None = None


def author_index_name(author_id: int) -> str:
    return f"{INDEX_PREFIX}{int(author_id)}"


def existing_author_indexes() -> set[int]:
    """Authors whose partial HNSW index exists, in its present form."""
    return {author_id for author_id, current in _author_indexes().items() if current}


def indexed_authors() -> frozenset[int]:
    """``existing_author_indexes()`` as this process last read it, at most KNOWN_FOR_S ago (searches ask
    on every query; the catalogue lookup would cost each one a round trip)."""
    global _known
    known = _known  # one read: another thread may forget it meanwhile
    if known is None or time.monotonic() - known[0] > KNOWN_FOR_S:
        known = _known = (time.monotonic(), frozenset(existing_author_indexes()))
    return known[1]


def _forget_indexed_authors() -> None:
    global _known
    _known = None


def _author_indexes() -> dict[int, bool]:
    """Every author index: author id -> whether it is usable and of the present form. An index that a
    concurrent build left invalid (cancelled, or its process killed) is listed too, and is not usable."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
            " WHERE t.relname = %s AND c.relname LIKE %s",
            [CHUNK_TABLE, INDEX_PREFIX + "%"],
        )
        return {
            int(name.removeprefix(INDEX_PREFIX)): valid and INDEX_OPCLASS in sql
            for name, sql, valid in cursor.fetchall()
        }


def chunk_author_indexes_sync(*, min_chunks: int = AUTHOR_INDEX_MIN_CHUNKS) -> dict[str, list[int]]:
    """Create the index of every author with at least ``min_chunks`` embedded chunks (and rebuild one of an
    older form); drop those of authors who have no chunk left. Outside a transaction the indexes are
    built CONCURRENTLY (writes go on). When another sync is running, this one does nothing (it finds the
    same work done)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SYNC_LOCK])
        if not cursor.fetchone()[0]:
            return {"created": [], "dropped": []}
    try:
        return _sync(min_chunks)
    finally:
        _forget_indexed_authors()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK])


def _sync(min_chunks: int) -> dict[str, list[int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT author_id FROM {CHUNK_TABLE} WHERE embedding IS NOT NULL AND author_id IS NOT NULL"
            " GROUP BY author_id HAVING count(*) >= %s",
            [min_chunks],
        )
        wanted = {author_id for (author_id,) in cursor.fetchall()}
        cursor.execute(f"SELECT DISTINCT author_id FROM {CHUNK_TABLE} WHERE author_id IS NOT NULL")
        present = {author_id for (author_id,) in cursor.fetchall()}
    indexes = _author_indexes()
    outdated = {author_id for author_id, current in indexes.items() if not current}  # or left invalid
    existing = set(indexes) - outdated
    for author_id in sorted(outdated):
        _drop(author_id)
    created, dropped = sorted(wanted - existing), sorted(existing - present)
    for author_id in created:
        author_index_create(author_id)
    for author_id in dropped:
        _drop(author_id)
    return {"created": created, "dropped": dropped}


def author_index_create(author_id: int) -> None:
    """The author's partial HNSW index, with the shared index's parameters (the name and the predicate
    are built from an integer: nothing user-typed reaches the DDL)."""
    with connection.cursor() as cursor:
        if connection.in_atomic_block:  # CREATE INDEX refuses to run while deferred FK checks are pending
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"CREATE INDEX {_concurrently()}IF NOT EXISTS {author_index_name(author_id)} ON {CHUNK_TABLE}"
            f" USING hnsw (({INDEX_KEY}) {INDEX_OPCLASS}) WITH (m = 16, ef_construction = 64)"
            f" WHERE author_id = {int(author_id)}"
        )
        if connection.in_atomic_block:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's constraints are initially deferred
    _forget_indexed_authors()


def _drop(author_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {_concurrently()}IF EXISTS {author_index_name(author_id)}")
    _forget_indexed_authors()


def _concurrently() -> str:
    return "" if connection.in_atomic_block else "CONCURRENTLY "
