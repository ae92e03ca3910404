"""Scores of one answered question, and their means over a run. Pure: no database, no models."""

import statistics
from collections.abc import Sequence

from apps.rag.grounding import content_words


def document_matches(reference: str, *, url: str, title: str) -> bool:
    reference = reference.strip().casefold()
    return bool(reference) and reference in (url.strip().casefold(), title.strip().casefold())


def reciprocal_rank(hits: Sequence[bool]) -> float:
    return next((1.0 / rank for rank, hit in enumerate(hits, start=1) if hit), 0.0)


def carried(reference: str, text: str) -> float:
    """Share of the reference's distinct content words that the text carries (0 for an empty reference)."""
    wanted = set(content_words(reference))
    return len(wanted & set(content_words(text))) / len(wanted) if wanted else 0.0


def mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.fmean(present), 4) if present else None


def summarize(items: list[dict], *, k: int) -> dict:
    answerable = [i for i in items if i["answerable"]]
    unanswerable = [i for i in items if not i["answerable"]]
    latency: dict[str, list[float]] = {}
    for item in items:
        for node, ms in item["timings_ms"].items():
            latency.setdefault(node, []).append(ms)
    judged = [i["judge"] for i in items if i.get("judge") is not None]
    return {
        "questions": len(items),
        f"hit@{k}": mean([i["hit"] for i in answerable if i["hit"] is not None]),
        "mrr": mean([i["rr"] for i in answerable if i["rr"] is not None]),
        "right_page_cited": mean([i["right_page_cited"] for i in answerable if i["right_page_cited"] is not None]),
        "context_precision": mean([i["context_precision"] for i in answerable]),
        "context_recall": mean([i["context_recall"] for i in answerable]),
        "faithfulness": mean([i["faithfulness"] for i in answerable]),
        "answer_relevance": mean([i["answer_relevance"] for i in answerable]),
        "reference_carried": mean([i["reference_carried"] for i in answerable if i["reference_answer"]]),
        "answered_when_answerable": mean([float(not i["refused"]) for i in answerable]),
        "refusal_correctness": mean([float(i["refused"]) for i in unanswerable]),
        "latency_ms": {
            node: {"p50": round(statistics.median(v), 1), "mean": round(statistics.fmean(v), 1)}
            for node, v in latency.items()
        },
        "total_ms_p50": round(statistics.median([i["total_ms"] for i in items]), 1) if items else None,
        "judge": {
            "scored": len([j for j in judged if j.get("score") is not None]),
            "unparseable": len([j for j in judged if j.get("score") is None]),
            "mean_score": mean([j.get("score") for j in judged]),
        }
        if judged
        else None,
    }
