"""Reads of documents and chunks: hybrid chunk retrieval for the RAG graph's retrieve node.

The work is in ``apps.documents.search`` (one module per concern); this is the facade callers use.
"""

import math
from collections.abc import Sequence
from dataclasses import replace

from django.db.models import Q, QuerySet

from apps.documents import embedding
from apps.documents.models import Chunk, Document
from apps.documents.search.dense import chunk_dense_search, dense_scan_settings
from apps.documents.search.fusion import FusedRank, demote_section_repeats, reciprocal_rank_fusion
from apps.documents.search.lexical import chunk_lexical_search
from apps.documents.search.types import NO_FILTERS, ChunkHit, SearchFilters
from lib.errors import TwinsiteError
from lib.text.chunking import chunk_headings

# A section's chunks after its best count a tenth: they share its heading lines, and a long section's
# chunks otherwise fill the top 5 together (bench/retrieval_quality.py, Debian FAQ, conversational).
PER_SECTION = 1
SECTION_REPEAT_WEIGHT = 0.1

__all__ = [
    "ChunkHit",
    "SearchFilters",
    "chunk_dense_search",
    "chunk_lexical_search",
    "chunk_search",
    "chunks_needing_embedding",
    "dense_scan_settings",
]


def chunk_search(
    *,
    embedding: Sequence[float] | None,
    query_text: str,
    filters: SearchFilters = NO_FILTERS,
    k: int = 20,
    model_id: str,
    dense_weight: float = 1.0,
    lexical_weight: float = 1.0,
    candidates: int = 50,
    rrf_k: int = 60,
    per_section: int | None = PER_SECTION,
) -> list[ChunkHit]:
    """The ``k`` best chunks for a query: nearest by embedding and best by words, fused by weighted RRF.

    Each list takes its top ``candidates`` (at least ``k``). A weight of 0 skips that list's query;
    so does a missing embedding or an empty query text. Every hit is a chunk embedded by ``model_id``
    of an included, live, processed document that passes ``filters``. Past the best ``per_section``
    chunks of a section (a document's chunks under the same headings), a chunk's score counts a tenth,
    so the top ranks hold different sections (None: no such spreading).
    """
    _check_search(k=k, candidates=candidates, rrf_k=rrf_k, dense_weight=dense_weight, lexical_weight=lexical_weight)
    if per_section is not None and per_section < 1:
        raise TwinsiteError(f"Keep at least one chunk per section in front (per_section={per_section}), or None.")
    pool = max(candidates, k)
    dense = []
    if dense_weight > 0 and embedding is not None:
        dense = chunk_dense_search(embedding=embedding, filters=filters, k=pool, model_id=model_id)
    lexical = []
    if lexical_weight > 0:
        lexical = chunk_lexical_search(query_text=query_text, filters=filters, k=pool, model_id=model_id)
    fused = reciprocal_rank_fusion(
        dense=[chunk_id for chunk_id, _ in dense],
        lexical=[chunk_id for chunk_id, _ in lexical],
        dense_weight=dense_weight,
        lexical_weight=lexical_weight,
        rrf_k=rrf_k,
    )
    if per_section is None:
        return _chunk_hits(fused[:k], distances=dict(dense))
    hits = {hit.chunk_id: hit for hit in _chunk_hits(fused[: 2 * k], distances=dict(dense))}
    sections = {chunk_id: _section(hit) for chunk_id, hit in hits.items()}
    spread = demote_section_repeats(
        [rank for rank in fused if rank.chunk_id in hits],
        section_of=sections,
        per_section=per_section,
        weight=SECTION_REPEAT_WEIGHT,
    )
    return [replace(hits[rank.chunk_id], score=rank.score) for rank in spread[:k]]


def _section(hit: ChunkHit) -> tuple[int, str] | None:
    headings = chunk_headings(hit.text)
    return (hit.document_id, headings) if headings else None


def _check_search(*, k: int, candidates: int, rrf_k: int, dense_weight: float, lexical_weight: float) -> None:
    if k < 1 or candidates < 1:
        raise TwinsiteError(f"Ask for at least one chunk and one candidate (k={k}, candidates={candidates}).")
    if rrf_k < 0:
        raise TwinsiteError(f"The RRF constant cannot be negative (rrf_k={rrf_k}).")
    weights = (dense_weight, lexical_weight)
    if not all(math.isfinite(w) and w >= 0 for w in weights) or not any(w > 0 for w in weights):
        raise TwinsiteError(
            f"Weights must be non-negative and not both 0 (dense={dense_weight}, lexical={lexical_weight})."
        )


def _chunk_hits(fused: list[FusedRank], *, distances: dict[int, float]) -> list[ChunkHit]:
    """The fused ranking with each chunk's text and its document's title, URL, author, date and platform."""
    chunks = Chunk.objects.select_related("document__author", "document__source").only(
        "text",
        "document__title",
        "document__url",
        "document__published_at",
        "document__author__name",
        "document__source__kind",
    )
    by_id = chunks.in_bulk([hit.chunk_id for hit in fused])
    hits = []
    for hit in fused:
        chunk = by_id.get(hit.chunk_id)
        if chunk is None:  # deleted since it was ranked (its document was re-chunked)
            continue
        document = chunk.document
        distance = distances.get(hit.chunk_id)
        hits.append(
            ChunkHit(
                chunk_id=chunk.pk,
                document_id=document.pk,
                text=chunk.text,
                score=hit.score,
                dense_rank=hit.dense_rank,
                lexical_rank=hit.lexical_rank,
                similarity=None if distance is None else 1.0 - distance,
                title=document.title,
                url=document.url,
                author_name=document.author.name,
                published_at=document.published_at,
                source_kind=document.source.kind,
            )
        )
    return hits


def chunks_needing_embedding() -> QuerySet[Chunk]:
    """Chunks without a vector from the current model, of processed documents."""
    return Chunk.objects.filter(
        Q(embedding__isnull=True) | ~Q(embedding_model=embedding.model_id()),
        document__status=Document.Status.PROCESSED,
    )


def chunk_vectors(chunk_ids: Sequence[int]) -> dict[int, list[float]]:
    """The stored vectors of these chunks, where the current model made them (unit length, as encode() gives)."""
    rows = Chunk.objects.filter(
        pk__in=list(chunk_ids), embedding__isnull=False, embedding_model=embedding.model_id()
    ).values_list("pk", "embedding")
    return {pk: [float(x) for x in vector] for pk, vector in rows}
