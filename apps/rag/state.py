"""The graph's state: each node returns the keys it sets; spans accumulate, one per node."""

import operator
from typing import Annotated, Any, TypedDict


class Turn(TypedDict):
    role: str  # "user" | "assistant"
    content: str


class RagState(TypedDict, total=False):
    question: str
    history: list[Turn]  # earlier turns of the conversation, oldest first
    author: str | None  # an author named by the caller, matched like self-query's names
    # The authors the caller may read (apps.sources.selectors.readable_author_ids): None = every author
    # (operators, commands). Absent = none: a caller that forgets it retrieves nothing (readable_authors()).
    readable_author_ids: list[int] | None

    step: str  # what the last deciding node chose to do next (the graph's conditional edges read it)
    route: str  # "retrieve" | "condense" | "greeting" | "thanks" | "about_twin"
    expand: bool  # whether other phrasings are asked for
    standalone_question: str  # the question with the history folded in
    queries: list[str]  # the standalone question first, then its rephrasings
    filters: dict[str, Any]  # author_ids, source_kinds, published_after/before (ISO dates), with their labels
    candidates: list[dict[str, Any]]  # fused hits over all queries, best first
    contexts: list[dict[str, Any]]  # what generation sees, numbered from 1, each with its grade
    graded: list[dict[str, Any]]  # the best graded passages over all rounds so far
    round: int  # corrective rounds done so far (0: the first retrieval)
    relevant: bool  # the grade's verdict: some context is good enough to answer from
    answer_mode: str  # the mode decided for this answer: "generate" | "extract"
    draft: str  # what the model wrote, before the check
    checks: list[dict[str, Any]]  # each drafted sentence with its support score and whether it was kept
    answer: str
    answer_kind: str  # "generated" | "extractive" | "mixed" | "no_answer" | "direct"
    citations: list[dict[str, Any]]
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None

    spans: Annotated[list[dict[str, Any]], operator.add]


def readable_authors(state: RagState) -> tuple[int, ...] | None:
    """The state's restriction to readable authors: None for every author, () when the state names none."""
    readable = state.get("readable_author_ids", ())
    return None if readable is None else tuple(readable)
