"""rewrite: fold the conversation into a standalone question, then ask it several other ways."""

import asyncio
import re

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.components import provider_for
from apps.rag.configuration import RagConfiguration
from apps.rag.providers import ChatMessage, GenerationParams
from apps.rag.state import RagState
from apps.rag.tracing import traced

_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
_HISTORY_TURNS = 6


def _condense_messages(question: str, history: list[dict]) -> list[ChatMessage]:
    lines = "\n".join(f"{turn['role']}: {turn['content']}" for turn in history[-_HISTORY_TURNS:])
    return [
        ChatMessage("system", prompts.CONDENSE_SYSTEM),
        ChatMessage("user", prompts.CONDENSE_USER.format(history=lines, question=question)),
    ]


def parse_phrasings(text: str, *, question: str, n: int) -> list[str]:
    """Lines of a model's answer as distinct questions, without list markers or repeats of the question."""
    seen = {question.casefold().strip()}
    phrasings = []
    for line in text.splitlines():
        candidate = _LIST_MARKER.sub("", line).strip().strip('"')
        if len(candidate) > 3 and candidate.casefold() not in seen:
            seen.add(candidate.casefold())
            phrasings.append(candidate)
    return phrasings[:n]


@traced("rewrite")
async def rewrite(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    configuration = runtime.context
    question = state["question"].strip()
    history = state.get("history") or []
    if not configuration.rewrite:
        return {"standalone_question": question, "queries": [question], "span": {"details": {"skipped": True}}}
    provider = provider_for(configuration)
    params = GenerationParams(max_tokens=64, temperature=0.0)
    standalone = question
    tokens = 0
    if history:
        condensed = await asyncio.to_thread(provider.generate, _condense_messages(question, history), params)
        standalone = condensed.text.strip().splitlines()[0].strip() if condensed.text.strip() else question
        tokens += condensed.completion_tokens or 0
    queries = [standalone]
    if configuration.n_queries > 0:
        messages = [
            ChatMessage("system", prompts.MULTI_QUERY_SYSTEM.format(n=configuration.n_queries)),
            ChatMessage("user", standalone),
        ]
        expanded = await asyncio.to_thread(
            provider.generate, messages, GenerationParams(max_tokens=24 * configuration.n_queries)
        )
        queries += parse_phrasings(expanded.text, question=standalone, n=configuration.n_queries)
        tokens += expanded.completion_tokens or 0
    return {
        "standalone_question": standalone,
        "queries": queries,
        "span": {"model": provider.model, "completion_tokens": tokens, "input_size": len(question)},
    }
