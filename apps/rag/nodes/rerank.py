"""rerank: a cross-encoder orders the candidates and keeps the top k; without one, the fused order passes."""

import asyncio

from langgraph.runtime import Runtime

from apps.rag.components import reranker_for
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState
from apps.rag.tracing import traced


@traced("rerank")
async def rerank(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    configuration = runtime.context
    candidates = state.get("candidates") or []
    question = state.get("standalone_question") or state["question"]
    reranker = reranker_for(configuration)
    if reranker is None:
        contexts = [dict(c) for c in candidates[: configuration.final_k]]
        note = {"details": {"reranker": None, "note": "no reranker configured: fused order kept"}}
    else:
        scores = await asyncio.to_thread(reranker.score, question, [c["text"] for c in candidates])
        ranked = sorted(zip(scores, candidates, strict=True), key=lambda pair: (-pair[0], pair[1]["chunk_id"]))
        contexts = [{**c, "rerank_score": round(score, 5)} for score, c in ranked[: configuration.final_k]]
        note = {"model": reranker.model_id}
    for n, context in enumerate(contexts, start=1):
        context["n"] = n
    return {
        "contexts": contexts,
        "span": {
            **note,
            "input_size": len(candidates),
            "chunk_ids": [c["chunk_id"] for c in contexts],
            "scores": [c.get("rerank_score", c["score"]) for c in contexts],
        },
    }
