"""Weighted reciprocal rank fusion of the dense and lexical rankings (pure; no database).

score = sum over the lists a chunk appears in of weight / (rrf_k + rank), ranks from 1. RRF needs
no calibration between cosine distances and ts_rank_cd values, only the order of each list.
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FusedRank:
    chunk_id: int
    score: float
    dense_rank: int | None
    lexical_rank: int | None


def reciprocal_rank_fusion(
    *, dense: Sequence[int], lexical: Sequence[int], dense_weight: float, lexical_weight: float, rrf_k: int
) -> list[FusedRank]:
    """Chunk ids of both rankings (best first) fused, best first; equal scores go to the lower chunk id."""
    dense_ranks = {chunk_id: rank for rank, chunk_id in enumerate(dense, start=1)}
    lexical_ranks = {chunk_id: rank for rank, chunk_id in enumerate(lexical, start=1)}
    fused = []
    for chunk_id in dense_ranks.keys() | lexical_ranks.keys():
        dense_rank, lexical_rank = dense_ranks.get(chunk_id), lexical_ranks.get(chunk_id)
        score = 0.0
        if dense_rank is not None:
            score += dense_weight / (rrf_k + dense_rank)
        if lexical_rank is not None:
            score += lexical_weight / (rrf_k + lexical_rank)
        fused.append(FusedRank(chunk_id, score, dense_rank, lexical_rank))
    fused.sort(key=lambda hit: (-hit.score, hit.chunk_id))
    return fused
