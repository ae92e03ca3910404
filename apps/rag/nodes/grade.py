"""grade: is what was retrieved good enough to answer from? Each passage gets a probability of relevance.

With a reranker that is its cross-encoder score; without one, the question-passage cosine put through
the configured logistic calibration. Passages from earlier corrective rounds are kept and compete.
"""

import asyncio
import math

from django.db import connection
from langgraph.runtime import Runtime

from apps.documents.selectors import chunk_vectors
from apps.rag.components import embedder_for
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState
from apps.rag.tracing import traced


def calibrated(similarity: float, calibration: tuple[float, float]) -> float:
    slope, intercept = calibration
    return 1.0 / (1.0 + math.exp(-(slope * similarity + intercept)))


def similarity_grades(question: str, passages: list[dict], embedder, calibration: tuple[float, float]) -> list[float]:
    """The calibrated cosine of the question to each passage's stored vector (the chunk's own text, embedded by
    the current model); only a passage without one is encoded here. Encoding every passage again cost about a
    second of each answer on two CPU cores."""
    if not passages:
        return []
    stored = chunk_vectors([p["chunk_id"] for p in passages])
    missing = [p["text"] for p in passages if p["chunk_id"] not in stored]
    query, *encoded = embedder.encode([question, *missing])
    fresh = iter(encoded)
    vectors = [stored.get(p["chunk_id"]) or next(fresh) for p in passages]
    return [round(calibrated(sum(a * b for a, b in zip(query, v, strict=True)), calibration), 5) for v in vectors]


def _similarity_grades(*args):
    """similarity_grades in a worker thread, whose database connection is closed after."""
    try:
        return similarity_grades(*args)
    finally:
        connection.close()


def next_step(*, relevant: bool, round_done: int, rounds: int) -> tuple[str, str]:
    if relevant:
        return "answer", "a passage grades above the threshold"
    if round_done < rounds:
        return "reformulate", f"weak context: corrective round {round_done + 1} of {rounds}"
    return "no_answer", "weak context and no corrective rounds left: the sources don't cover it"


@traced("grade")
async def grade(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    configuration = runtime.context
    question = state.get("standalone_question") or state["question"]
    fresh = [dict(c) for c in state.get("contexts") or [] if "grade" not in c]
    if fresh and "rerank_score" in fresh[0]:
        method = "cross-encoder"
        for context in fresh:
            context["grade"] = context["rerank_score"]
    else:
        method = "calibrated similarity"
        grades = await asyncio.to_thread(
            _similarity_grades,
            question,
            fresh,
            embedder_for(configuration),
            configuration.similarity_calibration,
        )
        for context, value in zip(fresh, grades, strict=True):
            context["grade"] = value
    earlier = state.get("graded") or []
    known = {c["chunk_id"] for c in fresh}
    pool = fresh + [c for c in earlier if c["chunk_id"] not in known]
    contexts = sorted(pool, key=lambda c: (-c["grade"], c["chunk_id"]))[: configuration.final_k]
    for n, context in enumerate(contexts, start=1):
        context["n"] = n
    best = contexts[0]["grade"] if contexts else 0.0
    relevant = best >= configuration.relevance_threshold
    round_done = state.get("round", 0)
    step, reason = next_step(relevant=relevant, round_done=round_done, rounds=configuration.corrective_rounds)
    return {
        "contexts": contexts,
        "graded": contexts,
        "relevant": relevant,
        "step": step,
        "span": {
            "input_size": len(fresh),
            "chunk_ids": [c["chunk_id"] for c in contexts],
            "scores": [c["grade"] for c in contexts],
            "details": {
                "method": method,
                "best": best,
                "threshold": configuration.relevance_threshold,
                "round": round_done,
                "next": step,
                "reason": reason,
            },
        },
    }
