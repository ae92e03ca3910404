"""Weighted reciprocal rank fusion of the dense and lexical rankings (pure; no database).

score = sum over the lists a chunk appears in of weight / (rrf_k + rank), ranks from 1. RRF needs
no calibration between cosine distances and ts_rank_cd values, only the order of each list.
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace


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


def demote_section_repeats(
    fused: Sequence[FusedRank], *, section_of: Mapping[int, Hashable | None], per_section: int, weight: float
) -> list[FusedRank]:
    """The fused ranking with each section's chunks past its best ``per_section`` scored ``weight`` times less.

    Chunks of one section start with the same heading lines, and a long section's chunks would
    otherwise fill the top ranks together; with a small weight (0.1: below any RRF score of a first
    chunk) they fall behind every other section's best, in their own order. A chunk whose section is
    None (no heading) counts as a section of its own. Best first; equal scores go to the lower id.
    """
    seen: dict[Hashable, int] = {}
    spread = []
    for hit in fused:
        section = section_of.get(hit.chunk_id)
        if section is not None:
            seen[section] = seen.get(section, 0) + 1
            if seen[section] > per_section:
                hit = replace(hit, score=hit.score * weight)
        spread.append(hit)
    spread.sort(key=lambda hit: (-hit.score, hit.chunk_id))
    return spread
