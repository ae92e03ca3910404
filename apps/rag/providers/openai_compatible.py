"""The OpenAI-compatible provider: chat completions on any OpenAI-style endpoint (OpenAI, vLLM, TGI's /v1).

Named so as not to shadow the ``openai`` package. An author's LoRA adapter
(``params.adapter``) is asked for as the request's ``model``, the name vLLM serves
it under (``--lora-modules author-<id>=<dir>``); without one, the configured model. The API key is sent as the
bearer token and appears in no message and no log line. One attempt per
request: retrying is the caller's decision.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import openai

from apps.rag.providers.base import (
    ChatMessage,
    Generation,
    GenerationParams,
    ProviderError,
    ProviderUnavailable,
    backend_detail,
    counted,
    deltas_from_chunks,
    generation_from_completion,
    message_dicts,
)

# Self-hosted servers (vLLM, TGI) take no key, but the SDK refuses to start without one.
NO_KEY = "EMPTY"


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(self, base_url: str, *, api_key: str, model: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=api_key or NO_KEY, timeout=timeout_s, max_retries=0
        )

    @counted
    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Generation:
        with self._backend_errors():
            completion = self._client.chat.completions.create(
                model=params.adapter or self.model, messages=message_dicts(messages), **_options(params)
            )
        return generation_from_completion(completion, stop=params.stop, model=params.adapter or self.model)

    @counted
    def stream(self, messages: list[ChatMessage], params: GenerationParams) -> Iterator[str]:
        with self._backend_errors():
            chunks = self._client.chat.completions.create(
                model=params.adapter or self.model, messages=message_dicts(messages), stream=True, **_options(params)
            )
            with chunks:  # closes the response, also when the reader stops early
                yield from deltas_from_chunks(chunks, stop=params.stop)

    def served(self, adapter: str) -> str:
        """What answers a request for adapter: the adapter's served name, or the model."""
        return adapter or self.model

    def count_tokens(self, text: str) -> int | None:
        return None  # the tokenizer lives on the server

    def probe(self) -> None:
        """Raise ProviderError unless the server answers its model list (no tokens spent)."""
        with self._backend_errors():
            self._client.models.list()

    @contextmanager
    def _backend_errors(self) -> Iterator[None]:
        where = f"The OpenAI-compatible server at {self.base_url}"
        try:
            yield
        except (openai.APITimeoutError, httpx2.TimeoutException) as exc:
            raise ProviderUnavailable(f"{where} did not answer within {self._timeout_s:g} s.") from exc
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            raise ProviderUnavailable(f"{where} cannot be reached: {self._redact(str(cause))}.") from exc
        except httpx2.TransportError as exc:  # the connection broke while a stream was being read
            raise ProviderUnavailable(f"{where} cannot be reached: {self._redact(str(exc))}.") from exc
        except openai.APIStatusError as exc:
            detail = self._redact(backend_detail(exc.body))
            suffix = f": {detail}" if detail else "."
            # 5xx and 429 (overloaded, out of quota) say the backend cannot serve now; other 4xx, the request is wrong.
            if exc.status_code >= 500 or exc.status_code == 429:
                raise ProviderUnavailable(f"{where} is unavailable (HTTP {exc.status_code}){suffix}") from exc
            raise ProviderError(f"{where} rejected the request (HTTP {exc.status_code}){suffix}") from exc
        except openai.APIError as exc:  # an error event inside a stream
            detail = self._redact(backend_detail(exc.body) or exc.message)
            raise ProviderUnavailable(f"{where} failed while generating: {detail}") from exc

    def _redact(self, text: str) -> str:
        # A server may echo the key back in an error; it must not reach logs or users.
        return text.replace(self._api_key, "***") if self._api_key else text


def _options(params: GenerationParams) -> dict[str, Any]:
    options: dict[str, Any] = {"max_tokens": params.max_tokens, "temperature": params.temperature}
    if params.top_p < 1:
        options["top_p"] = params.top_p
    if params.stop:
        options["stop"] = list(params.stop)
    if params.frequency_penalty:
        options["frequency_penalty"] = params.frequency_penalty
    return options
