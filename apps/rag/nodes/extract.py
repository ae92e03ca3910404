"""extract: the author's own best passages, quoted with their citations after a one-line lead-in.

It follows whatever supported sentences were already shown, so nothing shown is ever taken back.
"""

import math

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState
from apps.rag.tracing import traced


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def chosen_passages(contexts: list[dict], configuration: RagConfiguration) -> list[dict]:
    """The best passage, and the next ones that grade above the threshold and nearly as high as the best.

    A passage that is merely relevant does not follow the best: on the Python FAQ an answer about indentation
    went on to quote the section on trailing commas (grades 0.997 and 0.891).
    """
    ranked = sorted(contexts, key=lambda c: (-c.get("grade", 0.0), c["n"]))
    if not ranked:
        return []
    best = _logit(ranked[0].get("grade", 0.0))
    close = [
        c
        for c in ranked[1:]
        if c.get("grade", 0.0) >= configuration.relevance_threshold
        and best - _logit(c.get("grade", 0.0)) <= configuration.extract_logit_margin
    ]
    return [ranked[0], *close][: configuration.extract_passages]


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
