"""The TGI provider: a Text Generation Inference server, through huggingface_hub's InferenceClient.

It uses TGI's chat completion API, so the server applies the served model's own
chat template. An author's LoRA adapter (``params.adapter``, loaded by TGI from
LORA_ADAPTERS) is asked for by its id in the request's ``model``: TGI's chat route
passes that on as the generation's ``adapter_id`` (any value but "tgi"). One attempt
per request: retrying is the caller's decision.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
from huggingface_hub import InferenceClient
from huggingface_hub.errors import InferenceTimeoutError, TextGenerationError, ValidationError

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


class _RefusedRequest(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail)
        self.status, self.detail = status, detail


class _TGIClient(InferenceClient):
    """InferenceClient sending its requests through an HTTP client of its own.

    huggingface_hub's shared HTTP session refuses every request while HF_HUB_OFFLINE=1
    (which settings set so that no model is ever downloaded), even one to a TGI
    server on our own network, and it would send the Hub token of whoever runs the
    process to that server. This client does neither.
    """

    def __init__(self, url: str, *, timeout_s: float) -> None:
        super().__init__(base_url=url, timeout=timeout_s)
        self._http = httpx2.Client(timeout=timeout_s, follow_redirects=False)

    def _inner_post(self, request_parameters: Any, *, stream: bool = False) -> Any:
        headers = {k: v for k, v in request_parameters.headers.items() if k.lower() != "authorization"}
        request = self._http.build_request(
            "POST",
            request_parameters.url,
            json=request_parameters.json,
            content=request_parameters.data,
            headers=headers,
        )
        response = self._http.send(request, stream=True)
        if response.status_code >= 400:
            try:
                response.read()
            finally:
                response.close()
            raise _RefusedRequest(response.status_code, backend_detail(response.text))
        if stream:
            return _lines(response)
        try:
            return response.read()
        finally:
            response.close()


def _lines(response: httpx2.Response) -> Iterator[str]:
    try:
        yield from response.iter_lines()
    finally:
        response.close()


class TGIProvider:
    name = "tgi"

    def __init__(self, url: str, *, timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.model = self.url  # TGI serves one model; its id comes back with each answer
        self._timeout_s = timeout_s
        self._client = _TGIClient(self.url, timeout_s=timeout_s)

    @counted
    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Generation:
        with self._backend_errors():
            output = self._client.chat_completion(messages=message_dicts(messages), **_options(params))
        return generation_from_completion(output, stop=params.stop, model=self.model)

    @counted
    def stream(self, messages: list[ChatMessage], params: GenerationParams) -> Iterator[str]:
        with self._backend_errors():
            chunks = self._client.chat_completion(messages=message_dicts(messages), stream=True, **_options(params))
            try:
                yield from deltas_from_chunks(chunks, stop=params.stop)
            finally:
                chunks.close()  # type: ignore[attr-defined]  # a generator: closing it closes the response

    def served(self, adapter: str) -> str:
        """What answers a request for adapter: the adapter's served name, or the model."""
        return adapter or self.model

    def count_tokens(self, text: str) -> int | None:
        return None  # the tokenizer lives on the server

    def probe(self) -> None:
        """Raise ProviderError unless TGI's /health says it is ready (it answers 503 while loading)."""
        with self._backend_errors():
            response = self._client._http.get(f"{self.url}/health")
            if response.status_code >= 400:
                raise _status_error(f"The TGI server at {self.url}", response.status_code, "")

    @contextmanager
    def _backend_errors(self) -> Iterator[None]:
        where = f"The TGI server at {self.url}"
        try:
            yield
        except (httpx2.TimeoutException, InferenceTimeoutError) as exc:
            raise ProviderUnavailable(f"{where} did not answer within {self._timeout_s:g} s.") from exc
        except httpx2.TransportError as exc:
            raise ProviderUnavailable(f"{where} cannot be reached: {exc or type(exc).__name__}.") from exc
        except _RefusedRequest as exc:
            raise _status_error(where, exc.status, exc.detail) from exc
        except ValidationError as exc:  # reported inside a stream
            raise ProviderError(f"{where} rejected the request: {backend_detail(str(exc))}") from exc
        except TextGenerationError as exc:
            raise ProviderUnavailable(f"{where} failed while generating: {backend_detail(str(exc))}") from exc


def _options(params: GenerationParams) -> dict[str, Any]:
    # temperature 0 is greedy decoding for TGI's chat API.
    options = {
        "model": params.adapter or "tgi",  # "tgi": the base model, no adapter
        "max_tokens": params.max_tokens,
        "temperature": params.temperature,
        "stop": list(params.stop) or None,
        "frequency_penalty": params.frequency_penalty or None,
    }
    return {**options, "top_p": params.top_p} if params.top_p < 1 else options


def _status_error(where: str, status: int, detail: str) -> ProviderError:
    """5xx and 429 (overloaded) say the backend cannot serve now; other 4xx that the request is wrong."""
    suffix = f": {detail}" if detail else "."
    if status >= 500 or status == 429:
        return ProviderUnavailable(f"{where} is unavailable (HTTP {status}){suffix}")
    return ProviderError(f"{where} rejected the request (HTTP {status}){suffix}")
