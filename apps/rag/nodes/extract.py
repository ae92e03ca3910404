"""extract: the author's own best passages, quoted with their citations after a one-line lead-in.

It follows whatever supported sentences were already shown, so nothing shown is ever taken back.
"""

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState
from apps.rag.tracing import traced


def chosen_passages(contexts: list[dict], configuration: RagConfiguration) -> list[dict]:
    """The best passage, and the next ones that also grade above the threshold, up to extract_passages."""
    ranked = sorted(contexts, key=lambda c: (-c.get("grade", 0.0), c["n"]))
    good = [c for c in ranked if c.get("grade", 0.0) >= configuration.relevance_threshold]
    return (good or ranked[:1])[: configuration.extract_passages]


def extractive_answer(passages: list[dict]) -> str:
    titles = list(dict.fromkeys(f"“{p['title'].strip() or 'an untitled page'}”" for p in passages))
    lead = prompts.EXTRACT_LEAD.format(titles=" and ".join(titles))
    quotes = [
        prompts.EXTRACT_QUOTE.format(text="\n> ".join(p["text"].strip().splitlines()), n=p["n"]) for p in passages
    ]
    return "\n\n".join([lead, *quotes])


@traced("extract")
async def extract(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    passages = chosen_passages(state.get("contexts") or [], runtime.context)
    text = extractive_answer(passages)
    shown = state.get("answer") or ""
    runtime.stream_writer({"token": ("\n\n" if shown else "") + text})
    return {
        "answer": f"{shown}\n\n{text}" if shown else text,
        "answer_kind": "mixed" if shown else "extractive",
        "span": {
            "chunk_ids": [p["chunk_id"] for p in passages],
            "scores": [p.get("grade") for p in passages],
            "details": {"passages": [p["n"] for p in passages], "after_generated": bool(shown)},
        },
    }
