"""generate: the answer in the author's voice, checked sentence by sentence as it is written.

Only sentences that the passages support are streamed; the others are dropped, never shown and never
retracted. A sentence that cites nothing is checked against every passage and, when one supports it,
gets that passage's citation. After ``abort_after_unsupported`` unsupported sentences in a row the
model is stopped: what it writes next is rarely better, and the extractive answer is ready.
"""

import asyncio
import threading
from collections.abc import Iterator

from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.components import answering_model, provider_for, scorer_for
from apps.rag.configuration import RagConfiguration
from apps.rag.grounding import cited_numbers, split_sentences
from apps.rag.providers import ChatMessage, GenerationParams
from apps.rag.sentences import SentenceBuffer, trim_echo
from apps.rag.state import RagState
from apps.rag.tracing import traced
from lib.prompt_safety import Fence, attribute, untrusted

_DONE = object()


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    sentences = split_sentences(cut)
    return " ".join(sentences[:-1]) if len(sentences) > 1 else cut


def answer_messages(state: RagState, context_chars: int = 100_000) -> list[ChatMessage]:
    """Retrieved text goes in fences with a tag new to this request, which it cannot close or forge."""
    contexts = state.get("contexts") or []
    authors = (state.get("filters") or {}).get("authors") or sorted({c["author_name"] for c in contexts})
    fence = Fence("source")
    sources = "\n\n".join(
        fence.wrap(_shortened(c["text"], context_chars), id=c["n"], title=c["title"]) for c in contexts
    )
    question = untrusted(state.get("standalone_question") or state["question"])
    author = attribute(" and ".join(authors) or "the author")
    return [
        ChatMessage("system", prompts.ANSWER_SYSTEM.format(author=author, tag=fence.tag)),
        ChatMessage("user", prompts.ANSWER_USER.format(sources=sources, question=question)),
    ]


async def _deltas(deltas: Iterator[str], stop: threading.Event):
    """Drain a blocking iterator in a thread; setting ``stop`` closes it (the model stops generating)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def pump() -> None:
        try:
            for delta in deltas:
                loop.call_soon_threadsafe(queue.put_nowait, delta)
                if stop.is_set():
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the event loop, raised there
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:
                close()
        loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    threading.Thread(target=pump, daemon=True).start()
    while (item := await queue.get()) is not _DONE:
        if isinstance(item, BaseException):
            raise item
        if not stop.is_set():
            yield item


class SentenceCheck:
    """Checks each finished sentence against its passages; keeps the supported ones."""

    def __init__(self, scorer, contexts: list[dict], configuration: RagConfiguration, question: str) -> None:
        self.scorer, self.configuration, self.question = scorer, configuration, question
        self.passages = {c["n"]: c["text"] for c in contexts}
        self.checks: list[dict] = []
        self.unsupported_in_a_row = 0

    def check(self, sentence: str) -> str | None:
        """The sentence as it is shown (with its citation), or None when it is dropped."""
        if not self.checks:
            sentence = trim_echo(sentence, self.question)
        if not sentence:
            return None
        cited = [n for n in cited_numbers(sentence) if n in self.passages]
        against = {n: self.passages[n] for n in cited} if cited else self.passages
        support = self.scorer.support(sentence, against)
        kept = support.score >= self.configuration.support_threshold
        shown = sentence
        if kept and not cited and support.best is not None:
            shown = _with_citation(sentence, support.best)
        self.checks.append(
            {
                "sentence": sentence,
                "score": support.score,
                "lexical": support.lexical,
                "semantic": support.semantic,
                "checked_against": sorted(against),
                "supported_by": support.best if kept else None,
                "kept": kept,
            }
        )
        self.unsupported_in_a_row = 0 if kept else self.unsupported_in_a_row + 1
        return shown if kept else None

    @property
    def should_stop(self) -> bool:
        return self.unsupported_in_a_row >= self.configuration.abort_after_unsupported


def _with_citation(sentence: str, n: int) -> str:
    body = sentence.rstrip()
    end = len(body.rstrip(".!?"))
    return f"{body[:end]} [{n}]{body[end:]}"


@traced("generate")
async def generate(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    configuration = runtime.context
    provider = provider_for(configuration)
    contexts = state.get("contexts") or []
    question = state.get("standalone_question") or state["question"]
    messages = answer_messages(state, configuration.context_chars)
    adapter, served = answering_model(state, configuration)
    params = GenerationParams(
        adapter=adapter,
        max_tokens=configuration.max_tokens,
        temperature=configuration.temperature,
        top_p=configuration.top_p,
        stop=configuration.stop,
        repetition_penalty=configuration.repetition_penalty,
        no_repeat_ngram_size=configuration.no_repeat_ngram_size,
    )
    checker = SentenceCheck(scorer_for(configuration), contexts, configuration, question)
    buffer, stop, shown, draft = SentenceBuffer(), threading.Event(), [], []

    async def take(sentences: list[str]) -> None:
        for sentence in sentences:
            if stop.is_set():
                return
            if (kept := await asyncio.to_thread(checker.check, sentence)) is not None:
                runtime.stream_writer({"token": kept if not shown else " " + kept})
                shown.append(kept)
            if checker.should_stop:
                stop.set()

    try:
        async for delta in _deltas(provider.stream(messages, params), stop):
            draft.append(delta)
            await take(buffer.feed(delta))
    except BaseException:
        # Cancelled (the client hung up) or failed: the model stops at its next token instead of writing on.
        stop.set()
        raise
    if not stop.is_set():
        await take(buffer.finish())
    text = "".join(draft)
    prompt_tokens = await asyncio.to_thread(provider.count_tokens, "\n".join(m.content for m in messages))
    completion_tokens = await asyncio.to_thread(provider.count_tokens, text)
    return {
        "draft": text,
        "checks": checker.checks,
        "answer": " ".join(shown),
        "model": served,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "span": {
            "model": served,
            "input_size": sum(len(m.content) for m in messages),
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "details": {
                "stopped_early": stop.is_set(),
                "sentences_written": len(checker.checks),
                "sentences_shown": len(shown),
                "adapter": adapter or None,
                "precision": getattr(provider, "precision", None),
            },
        },
    }
