"""Dense retrieval latency and recall@10 through `chunk_dense_search`, unfiltered and filtered to one author.

Loads 100k synthetic 384-d chunk vectors (200 gaussian clusters, unit length,
seeded) spread over 20 authors into a throw-away embedded PostgreSQL, builds the
HNSW index (timed), then runs ~200 query vectors through the selector (HNSW,
iterative scan) and exactly (the same filters, ORDER BY the distance on every
matching row, no vector index), and compares the top 10: unfiltered; filtered to
a random author; and filtered with queries on a topic that author wrote about
("filtered_on_topic", which differs from "filtered" only with --home-share). After the import
it builds the per-author HNSW indexes the embed workers would (timed apart from the shared index).

    .venv/bin/python bench/retrieval.py [--rows 100000] [--queries 200] [--rounds 3] [--seed 7]
        [--home-share 0.7] [--shared-buffers 1GB]

Prints one JSON object. Not part of the test suite. Latencies are wall-clock through the selector,
including its transaction and settings round trips, after one untimed warm-up pass.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DIMENSIONS = 384
CLUSTERS = 200
AUTHORS = 20
CHUNKS_PER_DOCUMENT = 10
# By default authors are independent of topics (the filter keeps 5% of every cluster: the standard
# filtered-search case). --home-share 0.7 gives each author home topics instead; a query on a topic
# the filtered author barely wrote about then has "neighbours" that are all unrelated (cosine ~0.15),
# which no graph search ranks reliably: a stress case, reported apart.
CLUSTER_SPREAD = 0.9  # noise norm relative to the (unit) centre: within-cluster cosine ~0.55
MODEL_ID = "bench/synthetic-384"
K = 10


def setup_django(data_dir: str) -> None:
    os.environ.update(DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="twinsite.settings", LOG_LEVEL="WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    from twinsite.env import embedded_start

    embedded_start()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def synthetic_corpus(
    rows: int, home_share: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectors, their author, the cluster centres and each vector's cluster: documents of
    CHUNKS_PER_DOCUMENT chunks on one topic each."""
    centres = unit_rows(rng.standard_normal((CLUSTERS, DIMENSIONS)))
    documents = rows // CHUNKS_PER_DOCUMENT
    document_author = rng.integers(0, AUTHORS, documents)
    home = rng.integers(0, CLUSTERS // AUTHORS, documents) + document_author * (CLUSTERS // AUTHORS)
    anywhere = rng.integers(0, CLUSTERS, documents)
    document_cluster = np.where(rng.random(documents) < home_share, home, anywhere)
    cluster = np.repeat(document_cluster, CHUNKS_PER_DOCUMENT)
    author = np.repeat(document_author, CHUNKS_PER_DOCUMENT)
    noise = rng.standard_normal((documents * CHUNKS_PER_DOCUMENT, DIMENSIONS)) * (CLUSTER_SPREAD / DIMENSIONS**0.5)
    return unit_rows(centres[cluster] + noise), author, centres, cluster


def synthetic_queries(centres: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Query vectors near random topics, each with the (random) author its filtered run is limited to."""
    cluster = rng.integers(0, CLUSTERS, count)
    return near(centres[cluster], rng), rng.integers(0, AUTHORS, count)


def on_topic_queries(
    centres: np.ndarray, cluster: np.ndarray, chunk_author: np.ndarray, query_author: np.ndarray, rng
) -> np.ndarray:
    """For each query's author, a query near a topic that author wrote about (one of their chunks' clusters)."""
    topics = [cluster[rng.choice(np.flatnonzero(chunk_author == author))] for author in query_author]
    return near(centres[topics], rng)


def near(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return unit_rows(points + rng.standard_normal(points.shape) * (CLUSTER_SPREAD / DIMENSIONS**0.5))


def load(vectors: np.ndarray, chunk_author: np.ndarray) -> tuple[list[int], float]:
    """Authors, sources, documents and chunks by COPY; the HNSW index is dropped first and rebuilt (timed)."""
    import psycopg
    from django.db import connection
    from pgvector.psycopg import register_vector

    from apps.sources.models import Author, Source

    authors = [Author.objects.create(name=f"Bench author {n}") for n in range(AUTHORS)]
    kinds = [Source.Kind.ARTICLE, Source.Kind.GITHUB, Source.Kind.FEED, Source.Kind.EXPORT]
    sources = [
        Source.objects.create(author=a, kind=kinds[n % len(kinds)], url=f"https://bench.example/{n}")
        for n, a in enumerate(authors)
    ]
    connection.ensure_connection()
    epoch = datetime(2020, 1, 1, tzinfo=UTC)
    with psycopg.connect(**connection.get_connection_params()) as conn:
        register_vector(conn)
        conn.execute("DROP INDEX chunk_embedding_hnsw")
        documents = len(vectors) // CHUNKS_PER_DOCUMENT
        first_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM documents_document").fetchone()[0]
        with conn.cursor().copy(
            "COPY documents_document (id, source_id, author_id, url, title, published_at, raw_content, clean_text,"
            " content_hash, metadata, language, curation_state, exclusion_reason, status, processing_error,"
            " content_type, minhash, minhash_bands, created_at, updated_at, http_etag, http_last_modified, listed_at)"
            " FROM STDIN"
        ) as copy:
            for n in range(documents):
                a = int(chunk_author[n * CHUNKS_PER_DOCUMENT])
                stamp = epoch + timedelta(hours=n)
                copy.write_row(
                    (first_id + n, sources[a].pk, authors[a].pk, f"https://bench.example/{a}/{n}", f"Post {n}",
                     stamp, "", "", f"{n:064x}", "{}", "en", "included", "", "processed", "", "article", "[]", "{}",
                     stamp, stamp, "", "", "")
                )  # fmt: skip
        with conn.cursor().copy(
            "COPY documents_chunk (document_id, ordinal, text, token_count, content_hash, embedding,"
            " embedding_model, created_at) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["bigint", "integer", "text", "integer", "varchar", "vector", "varchar", "timestamptz"])
            for n, vector in enumerate(vectors):
                copy.write_row(
                    (first_id + n // CHUNKS_PER_DOCUMENT, n % CHUNKS_PER_DOCUMENT, f"chunk {n}", 2, f"{n:064x}",
                     vector, MODEL_ID, epoch)
                )  # fmt: skip
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('documents_document', 'id'), max(id)) FROM documents_document"
        )
        conn.commit()
        started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute(
            "CREATE INDEX chunk_embedding_hnsw ON documents_chunk USING hnsw (embedding vector_cosine_ops)"
            " WITH (m = 16, ef_construction = 64)"
        )
        conn.commit()
        build_s = time.perf_counter() - started
        conn.autocommit = True  # VACUUM cannot run in a transaction
        conn.execute("VACUUM ANALYZE documents_chunk")
        conn.execute("VACUUM ANALYZE documents_document")
    return [a.pk for a in authors], build_s


def build_author_indexes() -> tuple[float, int]:
    """The per-author indexes the embed workers would build after the import (timed), then fresh statistics."""
    from django.db import connection

    from apps.documents.services import chunk_author_indexes_sync

    started = time.perf_counter()
    created = chunk_author_indexes_sync()["created"]
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE documents_chunk")
    return seconds, len(created)


def exact_nearest(query: np.ndarray, author_id: int | None) -> list[int]:
    """The true top K under the same eligibility rules: every matching row's distance, sorted (no HNSW)."""
    from django.db import connection

    by_author = "AND d.author_id = %s" if author_id is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id FROM documents_chunk c JOIN documents_document d ON d.id = c.document_id"
            " WHERE c.embedding_model = %s AND d.curation_state = 'included' AND d.gone_at IS NULL"
            f" AND d.status = 'processed' {by_author}"
            " ORDER BY (c.embedding <=> %s::vector) + 0, c.id LIMIT %s",
            [MODEL_ID, *([author_id] if author_id is not None else []), str(query.tolist()), K],
        )
        return [row[0] for row in cursor.fetchall()]


def dense_latencies(queries: np.ndarray, author_ids: list[int | None], rounds: int) -> tuple[list[float], list]:
    """Each query's latency through the selector (ms, median of ``rounds`` passes) and its hits.

    Passes run one after another over the whole set, so a burst of load from another process on the
    machine inflates one pass of a query, not its median.
    """
    from apps.documents.selectors import SearchFilters, chunk_dense_search

    timings: list[list[float]] = [[] for _ in queries]
    found: list = [None] * len(queries)
    for _ in range(rounds):
        for n, (query, author_id) in enumerate(zip(queries, author_ids, strict=True)):
            filters = SearchFilters(author_ids=(author_id,) if author_id is not None else ())
            embedding = query.tolist()
            started = time.perf_counter()
            hits = chunk_dense_search(embedding=embedding, filters=filters, k=K, model_id=MODEL_ID)
            timings[n].append((time.perf_counter() - started) * 1000)
            found[n] = {chunk_id for chunk_id, _ in hits}
    return [statistics.median(t) for t in timings], found


def measure(queries: np.ndarray, author_ids: list[int | None], rounds: int) -> dict:
    """Latency of the selector, then recall against exact search, run afterwards so that its full
    scans do not evict the index pages between the timed queries."""
    latencies, found = dense_latencies(queries, author_ids, rounds)
    recalls, exact_latencies = [], []
    for query, author_id, hits in zip(queries, author_ids, found, strict=True):
        started = time.perf_counter()
        truth = exact_nearest(query, author_id)
        exact_latencies.append((time.perf_counter() - started) * 1000)
        recalls.append(len(hits & set(truth)) / len(truth))
    return {
        "recall_at_10": round(statistics.fmean(recalls), 4),
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "exact_p50_ms": round(float(np.percentile(exact_latencies, 50)), 2),
    }


def plan_uses_hnsw(query: np.ndarray, author_id: int) -> str | None:
    """The HNSW index the planner drives the selector's filtered query from (EXPLAIN), if any."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from apps.documents.selectors import SearchFilters, chunk_dense_search, dense_scan_settings

    filters = SearchFilters(author_ids=(author_id,))
    with CaptureQueriesContext(connection) as queries:
        chunk_dense_search(embedding=query.tolist(), filters=filters, k=K, model_id=MODEL_ID)
    sql = next(q["sql"] for q in queries.captured_queries if "<=>" in q["sql"])
    with transaction.atomic(), connection.cursor() as cursor:
        for name, value in dense_scan_settings(K, one_author=True).items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    used = re.search(r"Index Scan using (chunk_\w*hnsw\w*)", plan)
    return used.group(1) if used else None


def resize_shared_buffers(data_dir: str, size: str) -> None:
    """Restart the embedded server with ``shared_buffers = size`` (it starts with PostgreSQL's 128MB)."""
    from django.db import connection

    from apps.core import embedded

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SYSTEM SET shared_buffers = '{size}'")
    connection.close()
    embedded.postgres_stop(Path(data_dir))
    embedded.postgres_start(Path(data_dir))


def server_settings() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), (SELECT extversion FROM pg_extension WHERE extname = 'vector'),"
            " current_setting('shared_buffers'), current_setting('work_mem'),"
            " pg_size_pretty(pg_relation_size('chunk_embedding_hnsw'))"
        )
        names = ["postgresql", "pgvector", "shared_buffers", "work_mem", "hnsw_index_size"]
        return dict(zip(names, cursor.fetchone(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes; a query's latency is its median")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home-share", type=float, default=0.0, help="share of an author's writing on home topics")
    parser.add_argument("--shared-buffers", help="e.g. 1GB; default: the embedded server's own (128MB)")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    data_dir = tempfile.mkdtemp(prefix="twr-", dir="/tmp")
    try:
        setup_django(data_dir)
        if args.shared_buffers:
            resize_shared_buffers(data_dir, args.shared_buffers)
        vectors, chunk_author, centres, cluster = synthetic_corpus(args.rows, args.home_share, rng)
        started = time.perf_counter()
        author_pks, build_s = load(vectors, chunk_author)
        load_s = time.perf_counter() - started - build_s
        author_indexes_s, author_indexes = build_author_indexes()
        queries, query_author = synthetic_queries(centres, args.queries, rng)
        on_topic = on_topic_queries(centres, cluster, chunk_author, query_author, rng)
        filtered_to = [author_pks[a] for a in query_author]
        dense_latencies(queries, [None] * len(queries), 1)  # warm up: index pages, connection, plans
        dense_latencies(queries, filtered_to, 1)
        unfiltered = measure(queries, [None] * len(queries), args.rounds)
        filtered = measure(queries, filtered_to, args.rounds)
        filtered_on_topic = measure(on_topic, filtered_to, args.rounds)
        filtered["plan_hnsw_index"] = plan_uses_hnsw(queries[0], filtered_to[0])
        from apps.documents.selectors import dense_scan_settings

        settings_used = {**dense_scan_settings(K), **server_settings()}
        settings_used["hnsw.ef_search_one_author"] = dense_scan_settings(K, one_author=True)["hnsw.ef_search"]
    finally:
        from apps.core import embedded

        embedded.stop_all(Path(data_dir))
        shutil.rmtree(data_dir, ignore_errors=True)

    exact_p50 = {
        "unfiltered": unfiltered.pop("exact_p50_ms"),
        "filtered": filtered.pop("exact_p50_ms"),
        "filtered_on_topic": filtered_on_topic.pop("exact_p50_ms"),
    }
    print(
        json.dumps(
            {
                "unfiltered": unfiltered,
                "filtered": filtered,
                "filtered_on_topic": filtered_on_topic,
                "exact_p50_ms": exact_p50,
                "build_s": round(build_s, 2),
                "author_indexes": author_indexes,
                "author_indexes_build_s": round(author_indexes_s, 2),
                "load_s": round(load_s, 2),
                "rows": int(len(vectors)),
                "queries": int(len(queries)),
                "k": K,
                "settings": {
                    **settings_used,
                    "hnsw": {"m": 16, "ef_construction": 64},
                    "rounds": args.rounds,
                    "clusters": CLUSTERS,
                    "authors": AUTHORS,
                    "home_share": args.home_share,
                    "cluster_spread": CLUSTER_SPREAD,
                    "seed": args.seed,
                    "cpus": os.cpu_count(),
                    "load_average": [round(load, 2) for load in os.getloadavg()],
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
