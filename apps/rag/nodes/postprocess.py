"""postprocess: trim any echo of the prompt, and map the [n] citations to the chunks and documents used."""

import re

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState
from apps.rag.tracing import traced

_CITATION = re.compile(r"\[(\d{1,2})\]")
_ECHO_PREFIXES = ("answer:", "assistant:", "twin:")


def trim_echo(answer: str, question: str) -> str:
    """Remove what a small model repeats of its prompt before answering."""
    text = answer.strip()
    if text.casefold().startswith(question.strip().casefold()):
        text = text[len(question.strip()) :].lstrip(" \n:?-")
    for prefix in _ECHO_PREFIXES:
        if text.casefold().startswith(prefix):
            text = text[len(prefix) :].lstrip()
    return text.split("<source", 1)[0].strip()


def citations_for(answer: str, contexts: list[dict]) -> list[dict]:
    """The sources the answer cites by number, in order of first citation; all of them if it cites none."""
    by_number = {c["n"]: c for c in contexts}
    cited = [int(n) for n in dict.fromkeys(_CITATION.findall(answer)) if int(n) in by_number]
    chosen = [by_number[n] for n in cited] or contexts
    return [
        {
            "n": c["n"],
            "chunk_id": c["chunk_id"],
            "document_id": c["document_id"],
            "document_url": c["url"],
            "title": c["title"],
            "score": c.get("rerank_score", c["score"]),
            "cited": bool(cited),
        }
        for c in chosen
    ]


@traced("postprocess")
async def postprocess(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    raw = state.get("answer", "")
    if not state.get("relevant"):
        return {"answer": prompts.NO_ANSWER, "citations": [], "span": {"input_size": len(raw)}}
    answer = trim_echo(raw, state.get("standalone_question") or state["question"]) or prompts.NO_ANSWER
    citations = citations_for(answer, state.get("contexts") or [])
    return {
        "answer": answer,
        "citations": citations,
        "span": {"input_size": len(raw), "chunk_ids": [c["chunk_id"] for c in citations]},
    }
