"""generate: the answer in the author's voice from the numbered sources, streamed token by token."""

import asyncio
import threading
from collections.abc import Iterator

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.components import provider_for
from apps.rag.configuration import RagConfiguration
from apps.rag.providers import ChatMessage, GenerationParams
from apps.rag.state import RagState
from apps.rag.tracing import traced

_DONE = object()


def quote(text: str) -> str:
    """Retrieved text cannot close its own delimiter and pose as the prompt."""
    return text.replace("</source>", "</ source>").replace("<source", "< source")


def answer_messages(state: RagState) -> list[ChatMessage]:
    contexts = state.get("contexts") or []
    authors = (state.get("filters") or {}).get("authors") or sorted({c["author_name"] for c in contexts})
    sources = "\n\n".join(
        prompts.SOURCE_BLOCK.format(n=c["n"], title=quote(c["title"]).replace('"', "'"), text=quote(c["text"]))
        for c in contexts
    )
    question = state.get("standalone_question") or state["question"]
    return [
        ChatMessage("system", prompts.ANSWER_SYSTEM.format(author=" and ".join(authors) or "the author")),
        ChatMessage("user", prompts.ANSWER_USER.format(sources=sources, question=question)),
    ]


async def _stream(deltas: Iterator[str], emit) -> str:
    """Drain a blocking iterator in a thread, emitting each delta as it arrives."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def pump() -> None:
        try:
            for delta in deltas:
                loop.call_soon_threadsafe(queue.put_nowait, delta)
        except BaseException as exc:  # noqa: BLE001 - handed to the event loop, raised there
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    threading.Thread(target=pump, daemon=True).start()
    parts = []
    while (item := await queue.get()) is not _DONE:
        if isinstance(item, BaseException):
            raise item
        parts.append(item)
        emit({"token": item})
    return "".join(parts)


@traced("generate")
async def generate(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    configuration = runtime.context
    if not state.get("relevant"):
        runtime.stream_writer({"token": prompts.NO_ANSWER})
        return {"answer": prompts.NO_ANSWER, "span": {"details": {"skipped": "nothing relevant retrieved"}}}
    provider = provider_for(configuration)
    messages = answer_messages(state)
    params = GenerationParams(max_tokens=configuration.max_tokens, temperature=configuration.temperature)
    text = await _stream(provider.stream(messages, params), runtime.stream_writer)
    prompt_size = sum(len(m.content) for m in messages)
    prompt_tokens = await asyncio.to_thread(provider.count_tokens, "\n".join(m.content for m in messages))
    completion_tokens = await asyncio.to_thread(provider.count_tokens, text)
    return {
        "answer": text,
        "model": provider.model,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "span": {
            "model": provider.model,
            "input_size": prompt_size,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
        },
    }
