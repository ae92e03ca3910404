"""retrieve: hybrid search (HNSW cosine + full text, fused by RRF) for every query, concurrently, de-duplicated."""

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection
from langgraph.runtime import Runtime

from apps.documents.selectors import ChunkHit, SearchFilters, chunk_search
from apps.rag.components import embedder_for
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState, readable_authors
from apps.rag.tracing import traced


def search_filters(filters: dict[str, Any], *, readable_author_ids: tuple[int, ...] | None) -> SearchFilters:
    """The one way the graph builds SearchFilters: every retrieval keeps the caller's readable authors."""

    def moment(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None

    return SearchFilters(
        author_ids=tuple(filters.get("author_ids", ())),
        source_kinds=tuple(filters.get("source_kinds", ())),
        published_after=moment(filters.get("published_after")),
        published_before=moment(filters.get("published_before")),
        readable_author_ids=readable_author_ids,
    )


def fuse_queries(results: list[list[ChunkHit]]) -> list[dict[str, Any]]:
    """One entry per chunk over all queries, scored by the sum of its per-query fused scores.

    A chunk that several phrasings of the question find outranks one that a single phrasing
    ranks a little higher (RAG-Fusion). Its similarity is the best any query gave it.
    """
    fused: dict[int, dict[str, Any]] = {}
    for hits in results:
        for hit in hits:
            entry = fused.get(hit.chunk_id)
            if entry is None:
                fused[hit.chunk_id] = {**asdict(hit), "found_by": 1}
                continue
            entry["score"] += hit.score
            entry["found_by"] += 1
            if hit.similarity is not None:
                entry["similarity"] = max(entry["similarity"] or 0.0, hit.similarity)
    ranked = sorted(fused.values(), key=lambda e: (-e["score"], e["chunk_id"]))
    for entry in ranked:
        if entry["published_at"] is not None:
            entry["published_at"] = entry["published_at"].isoformat()
    return ranked


def _search(**kwargs: Any) -> list[ChunkHit]:
    """One search in a worker thread, whose connection is closed after: those threads outlive the request."""
    try:
        return chunk_search(**kwargs)
    finally:
        connection.close()


@traced("retrieve")
async def retrieve(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    configuration = runtime.context
    queries = state.get("queries") or [state["question"]]
    filters = state.get("filters") or {}
    if filters.get("unknown_author"):  # asked for someone the twin has no writing of
        return {"candidates": [], "span": {"details": {"unknown_author": filters["unknown_author"]}}}
    embedder = embedder_for(configuration)
    vectors = await asyncio.to_thread(embedder.encode, queries)
    search = sync_to_async(_search, thread_sensitive=False)
    results = await asyncio.gather(
        *(
            search(
                embedding=vector,
                query_text=query,
                filters=search_filters(filters, readable_author_ids=readable_authors(state)),
                k=configuration.retrieve_k,
                model_id=embedder.model_id,
                dense_weight=configuration.dense_weight,
                lexical_weight=configuration.lexical_weight,
            )
            for query, vector in zip(queries, vectors, strict=True)
        )
    )
    candidates = fuse_queries(list(results))
    return {
        "candidates": candidates,
        "span": {
            "model": embedder.model_id,
            "input_size": len(queries),
            "chunk_ids": [c["chunk_id"] for c in candidates],
            "scores": [round(c["score"], 5) for c in candidates],
        },
    }
