"""What every generation provider takes and returns, and the errors it raises.

Providers are ORM-free and framework-free: the graph hands them chat messages
and parameters, and they answer with text. ``stream`` is lazy: nothing is sent
or computed until the first ``next()``, so errors surface from the iteration
(the graph drains it in a worker thread, off the event loop).
"""

import contextlib
import functools
import inspect
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from lib.errors import TwinsiteError
from lib.telemetry.metrics import PROVIDER_CALLS, PROVIDER_ERRORS


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 256
    temperature: float = 0.0  # 0: greedy, the same answer every time
    top_p: float = 1.0  # nucleus sampling; only matters when temperature > 0
    stop: tuple[str, ...] = ()  # the text is cut where the first of these completes, the stop string excluded
    # Degeneration control: >1 makes tokens already written less likely (remote APIs get it as a frequency
    # penalty); n > 0 forbids repeating any n-gram (the local model only).
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    # The author's served LoRA adapter (lib.production_pointer.adapter_name, "author-<id>"); "": the default model.
    # Local: the PEFT adapter; TGI: the adapter_id (its chat API reads it from "model"); OpenAI/vLLM: the model.
    adapter: str = ""

    @property
    def frequency_penalty(self) -> float:
        """The OpenAI-style penalty that stands in for repetition_penalty on remote providers."""
        return round(min(2.0, max(0.0, (self.repetition_penalty - 1.0) * 2)), 3)


@dataclass(frozen=True)
class Generation:
    text: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ProviderError(TwinsiteError):
    """The request itself is bad: the backend refused it (4xx) or the prompt is too long."""


class ProviderUnavailable(ProviderError):
    """The backend is down: refused, timed out, failed (5xx) or its model cannot be loaded."""


def counted(method):
    """Counts a provider method's calls and failures (lib.telemetry.metrics). A stream stays lazy: it is
    counted when its iteration starts, and a failure while iterating counts as the call's."""

    def failed(name: str, exc: ProviderError) -> None:
        PROVIDER_ERRORS.labels(name, "unavailable" if isinstance(exc, ProviderUnavailable) else "rejected").inc()

    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def stream(self, *args: Any, **kwargs: Any) -> Iterator[str]:
            PROVIDER_CALLS.labels(self.name).inc()
            try:
                yield from method(self, *args, **kwargs)
            except ProviderError as exc:
                failed(self.name, exc)
                raise

        return stream

    @functools.wraps(method)
    def call(self, *args: Any, **kwargs: Any) -> Any:
        PROVIDER_CALLS.labels(self.name).inc()
        try:
            return method(self, *args, **kwargs)
        except ProviderError as exc:
            failed(self.name, exc)
            raise

    return call


class GenerationProvider(Protocol):
    name: str  # "local" | "tgi" | "openai"
    model: str  # what is served (a path or an id), recorded in traces

    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Generation: ...

    def stream(self, messages: list[ChatMessage], params: GenerationParams) -> Iterator[str]:
        """Text deltas; their concatenation equals what generate would return."""
        ...

    def count_tokens(self, text: str) -> int | None:
        """Tokens of text for the served model; None when the provider cannot know."""
        ...


def message_dicts(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """The messages as chat APIs and chat templates take them."""
    return [{"role": m.role, "content": m.content} for m in messages]


class StopTrimmer:
    """Cuts a text arriving in pieces where the first stop string completes.

    A stop string can straddle two pieces, so the tail of the text that could be
    the start of one is held back until the next piece settles it. Fed the whole
    text at once or piece by piece, the emitted text is the same.
    """

    def __init__(self, stop: tuple[str, ...]) -> None:
        self._stop = tuple(s for s in stop if s)
        self._held = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """The part of the text so far that is certain to be kept and was not yet emitted."""
        if self.stopped:
            return ""
        text = self._held + piece
        cut = self._first_stop(text)
        if cut is not None:
            self.stopped, self._held = True, ""
            return text[:cut]
        keep = self._partial_stop_length(text)
        self._held = text[len(text) - keep :]
        return text[: len(text) - keep]

    def flush(self) -> str:
        """The held-back tail, once the text has ended without completing a stop string."""
        held, self._held = self._held, ""
        return "" if self.stopped else held

    def _first_stop(self, text: str) -> int | None:
        # The stop that completes first wins (as when a model stops as soon as one appears);
        # of two completing at the same place, the longer one, which starts earlier.
        best: tuple[int, int] | None = None
        for stop in self._stop:
            index = text.find(stop)
            if index >= 0:
                candidate = (index + len(stop), index)
                best = candidate if best is None or candidate < best else best
        return None if best is None else best[1]

    def _partial_stop_length(self, text: str) -> int:
        longest = 0
        for stop in self._stop:
            for size in range(min(len(stop) - 1, len(text)), longest, -1):
                if text.endswith(stop[:size]):
                    longest = size
                    break
        return longest


def trim_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """text cut where the first stop string completes, the stop string excluded."""
    trimmer = StopTrimmer(stop)
    return trimmer.feed(text) + trimmer.flush()


def backend_detail(body: object, *, limit: int = 200) -> str:
    """The human part of an error body from a backend: TGI's {"error": ...}, OpenAI's {"error": {"message": ...}}."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        with contextlib.suppress(ValueError):  # not JSON: the text itself is the detail
            body = json.loads(body)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            error = error.get("message") or error.get("error") or ""
        body = error
    text = " ".join(str(body or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def generation_from_completion(completion: Any, *, stop: tuple[str, ...], model: str) -> Generation:
    """A chat completion in the OpenAI shape (OpenAI SDK and TGI's client both return it) as a Generation."""
    text = (completion.choices[0].message.content or "") if completion.choices else ""
    usage = completion.usage
    return Generation(
        text=trim_at_stop(text, stop),
        model=completion.model or model,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
    )


def deltas_from_chunks(chunks: Iterable[Any], *, stop: tuple[str, ...]) -> Iterator[str]:
    """Text deltas of streamed completion chunks (OpenAI shape), cut at the first stop string."""
    trimmer = StopTrimmer(stop)
    for chunk in chunks:
        content = chunk.choices[0].delta.content if chunk.choices else None
        if content and (delta := trimmer.feed(content)):
            yield delta
        if trimmer.stopped:
            return
    if rest := trimmer.flush():
        yield rest
