"""expand: other phrasings of the question for retrieval, each validated as a question before it is searched."""

import asyncio

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.components import provider_for
from apps.rag.configuration import RagConfiguration
from apps.rag.phrasings import parse_phrasings
from apps.rag.providers import ChatMessage, GenerationParams
from apps.rag.state import RagState
from apps.rag.tracing import traced


@traced("expand")
async def expand(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    configuration = runtime.context
    question = state.get("standalone_question") or state["question"]
    provider = provider_for(configuration)
    messages = [
        ChatMessage("system", prompts.MULTI_QUERY_SYSTEM.format(n=configuration.n_queries)),
        ChatMessage("user", question),
    ]
    params = GenerationParams(max_tokens=24 * configuration.n_queries, temperature=0.0)
    written = await asyncio.to_thread(provider.generate, messages, params)
    kept, rejected = parse_phrasings(written.text, question=question, n=configuration.n_queries)
    return {
        "queries": [question, *kept],
        "span": {
            "model": provider.model,
            "completion_tokens": written.completion_tokens,
            "input_size": len(question),
            "details": {"phrasings": kept, "rejected": rejected},
        },
    }
