"""no_answer: the sources don't cover the question; say so, and show what came closest."""

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.configuration import RagConfiguration
from apps.rag.nodes.postprocess import citation
from apps.rag.state import RagState
from apps.rag.tracing import traced

CLOSEST_SHOWN = 3


@traced("no_answer")
async def no_answer(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    closest = (state.get("contexts") or [])[:CLOSEST_SHOWN]
    lines = [prompts.NO_ANSWER]
    if closest:
        lines += ["", prompts.CLOSEST_LEAD, *(prompts.CLOSEST_ITEM.format(title=c["title"], n=c["n"]) for c in closest)]
    answer = "\n".join(lines)
    runtime.stream_writer({"token": answer})
    return {
        "answer": answer,
        "answer_kind": "no_answer",
        "citations": [citation(c, cited=False) for c in closest],
        "span": {
            "chunk_ids": [c["chunk_id"] for c in closest],
            "scores": [c.get("grade") for c in closest],
            "details": {"closest": [c["n"] for c in closest]},
        },
    }
