"""condense: fold the conversation into a standalone question; a model's rewrite is used only if it is one."""

import asyncio

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.components import provider_for
from apps.rag.configuration import RagConfiguration
from apps.rag.phrasings import question_or_none
from apps.rag.providers import ChatMessage, GenerationParams
from apps.rag.state import RagState
from apps.rag.tracing import traced
from lib.prompt_safety import untrusted

_HISTORY_TURNS = 6


def condense_messages(question: str, history: list[dict]) -> list[ChatMessage]:
    # Earlier answers quote retrieved text: it must not open a template turn or one of our tags here either.
    lines = "\n".join(f"{turn['role']}: {untrusted(turn['content'])}" for turn in history[-_HISTORY_TURNS:])
    return [
        ChatMessage("system", prompts.CONDENSE_SYSTEM),
        ChatMessage("user", prompts.CONDENSE_USER.format(history=lines, question=question)),
    ]


def joined_with_last_question(question: str, history: list[dict]) -> str:
    """The fallback: the last question asked before, then this one; retrieval sees both topics."""
    earlier = next((t["content"] for t in reversed(history) if t["role"] == "user"), "")
    return f"{earlier.strip()} {question}".strip()


@traced("condense")
async def condense(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    question = state["question"].strip()
    history = state.get("history") or []
    provider = provider_for(runtime.context)
    params = GenerationParams(max_tokens=48, temperature=0.0, stop=("\n",))
    rewritten = await asyncio.to_thread(provider.generate, condense_messages(question, history), params)
    candidate = question_or_none(rewritten.text)
    if candidate is not None:
        standalone, reason = candidate, "the model's rewrite is a question"
    else:
        standalone = joined_with_last_question(question, history)
        reason = "the model's rewrite was not a question: the last question asked is joined to this one"
    return {
        "standalone_question": standalone,
        "queries": [standalone],
        "span": {
            "model": provider.model,
            "completion_tokens": rewritten.completion_tokens,
            "input_size": len(question),
            "details": {"standalone_question": standalone, "reason": reason, "model_wrote": rewritten.text[:300]},
        },
    }
