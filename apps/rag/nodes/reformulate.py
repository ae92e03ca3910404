"""reformulate: another way to search when the context was weak, one strategy per corrective round.

Round 1 searches the question's content words alone (a conversational wrapper can pull the dense
search off the topic); round 2 asks the model to ask the question in other words, used only if
what it writes is a question. The retrieve node then runs again with the same filters.
"""

import asyncio

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.components import provider_for
from apps.rag.configuration import RagConfiguration
from apps.rag.grounding import content_words
from apps.rag.phrasings import question_or_none
from apps.rag.providers import ChatMessage, GenerationParams
from apps.rag.state import RagState
from apps.rag.tracing import traced


def keyword_query(question: str) -> str:
    words = [w for w in question.replace("?", " ").split() if content_words(w)]
    return " ".join(words) or question


@traced("reformulate")
async def reformulate(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    question = state.get("standalone_question") or state["question"]
    round_next = state.get("round", 0) + 1
    span: dict = {"input_size": len(question)}
    if round_next == 1:
        query, reason = keyword_query(question), "the question's content words alone"
    else:
        provider = provider_for(runtime.context)
        messages = [ChatMessage("system", prompts.REFORMULATE_SYSTEM), ChatMessage("user", question)]
        params = GenerationParams(max_tokens=40, temperature=0.0, stop=("\n",))
        written = await asyncio.to_thread(provider.generate, messages, params)
        span |= {"model": provider.model, "completion_tokens": written.completion_tokens}
        query = question_or_none(written.text)
        reason = "the model's rephrasing" if query else "the model's rephrasing was not a question: the words again"
        query = query or keyword_query(question)
    span["details"] = {"round": round_next, "query": query, "reason": reason}
    return {"queries": [query], "round": round_next, "span": span}
