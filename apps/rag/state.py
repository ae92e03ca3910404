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

    standalone_question: str  # the question with the history folded in
    queries: list[str]  # the standalone question first, then its rephrasings
    filters: dict[str, Any]  # author_ids, source_kinds, published_after/before (ISO dates), with their labels
    candidates: list[dict[str, Any]]  # fused hits over all queries, best first
    contexts: list[dict[str, Any]]  # what generation sees, numbered from 1
    relevant: bool
    answer: str
    citations: list[dict[str, Any]]
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None

    spans: Annotated[list[dict[str, Any]], operator.add]
