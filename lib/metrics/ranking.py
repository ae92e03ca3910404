"""Ranking quality of the positive among its candidates: hit@1 and MRR@10 (pure; no database)."""

from collections.abc import Sequence

MRR_CUTOFF = 10


def order_by_scores(scores: Sequence[float]) -> list[int]:
    """Candidate positions, best score first; equal scores keep their position order."""
    return sorted(range(len(scores)), key=lambda position: (-scores[position], position))


def rank_of(order: Sequence[int], positive: int) -> int | None:
    """The 1-based rank of the positive in an order of candidate positions, None when it is absent."""
    return order.index(positive) + 1 if positive in order else None


def ranking_metrics(ranks: Sequence[int | None]) -> dict[str, float | int]:
    """hit@1 (the positive comes first) and MRR@10 (1/rank when within the top 10, else 0), averaged."""
    if not ranks:
        return {"hit@1": 0.0, f"mrr@{MRR_CUTOFF}": 0.0, "questions": 0}
    hits = sum(1 for rank in ranks if rank == 1)
    reciprocal = sum(1 / rank for rank in ranks if rank is not None and rank <= MRR_CUTOFF)
    return {
        "hit@1": round(hits / len(ranks), 4),
        f"mrr@{MRR_CUTOFF}": round(reciprocal / len(ranks), 4),
        "questions": len(ranks),
    }
