"""postprocess: map the [n] citations of the answer to the chunks and documents they stand for."""

import re

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState
from apps.rag.tracing import traced

_CITATION = re.compile(r"\[(\d{1,2})\]")


def citation(context: dict, *, cited: bool) -> dict:
    return {
        "n": context["n"],
        "chunk_id": context["chunk_id"],
        "document_id": context["document_id"],
        "document_url": context["url"],
        "title": context["title"],
        "score": context.get("grade", context.get("rerank_score", context["score"])),
        "cited": cited,
    }


def citations_for(answer: str, contexts: list[dict]) -> list[dict]:
    """The sources the answer cites by number, in order of first citation; all of them if it cites none."""
    by_number = {c["n"]: c for c in contexts}
    cited = [int(n) for n in dict.fromkeys(_CITATION.findall(answer)) if int(n) in by_number]
    chosen = [by_number[n] for n in cited] or contexts
    return [citation(c, cited=bool(cited)) for c in chosen]


@traced("postprocess")
async def postprocess(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    answer = state.get("answer", "")
    if not answer:  # answer_mode generate, and no sentence held up
        answer = prompts.NOTHING_SUPPORTED
        runtime.stream_writer({"token": answer})
    citations = citations_for(answer, state.get("contexts") or [])
    return {
        "answer": answer,
        "citations": citations,
        "span": {"input_size": len(answer), "chunk_ids": [c["chunk_id"] for c in citations]},
    }
