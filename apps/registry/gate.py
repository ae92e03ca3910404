"""The promotion gate: when a candidate's metrics count as worse than production's. Defined here only.

Perplexity of the author's held-out answers is the primary metric: it is
computed over every test token, so it moves little by chance. Style similarity
(the generated answers' embedding centroid against the author's) is a guard,
with a wider tolerance because a handful of greedy answers move it more.

A candidate is worse when, measured on the same kind of held-out data,
  - its perplexity is more than PERPLEXITY_TOLERANCE (relative) above production's, OR
  - its style similarity is more than STYLE_TOLERANCE (absolute) below production's.
A metric either side lacks is not compared; if none can be, the candidate is refused.
"""

from collections.abc import Mapping

PERPLEXITY_TOLERANCE = 0.02  # 2 % higher perplexity is still "as good"
STYLE_TOLERANCE = 0.05  # cosine similarity, on a 0-1 scale


def _number(metrics: Mapping, key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) and value == value else None  # NaN is "missing"


def metrics_regressions(*, candidate: Mapping, production: Mapping) -> list[str]:
    """Why the candidate is worse than production, one sentence per metric; empty when it is not worse."""
    reasons: list[str] = []
    compared = 0
    cand_ppl, prod_ppl = _number(candidate, "perplexity"), _number(production, "perplexity")
    if cand_ppl is not None and prod_ppl is not None:
        compared += 1
        if cand_ppl > prod_ppl * (1 + PERPLEXITY_TOLERANCE):
            reasons.append(
                f"perplexity {cand_ppl:.3f} is higher than production's {prod_ppl:.3f} "
                f"(more than {PERPLEXITY_TOLERANCE:.0%} worse)"
            )
    cand_style, prod_style = _number(candidate, "style_similarity"), _number(production, "style_similarity")
    if cand_style is not None and prod_style is not None:
        compared += 1
        if cand_style < prod_style - STYLE_TOLERANCE:
            reasons.append(
                f"style similarity {cand_style:.3f} is lower than production's {prod_style:.3f} "
                f"(by more than {STYLE_TOLERANCE})"
            )
    if not compared:
        reasons.append("no metric (perplexity, style similarity) was measured for both models")
    return reasons
