"""Real HTTP model servers on 127.0.0.1 for the provider tests, each answering with a real LocalProvider.

Two fronts on one implementation of the chat completions API (TGI's /v1 is
OpenAI-compatible): "tgi" adds TGI's /info and /health and reports errors as
TGI does ({"error": ..., "error_type": ...}); "openai" checks the bearer key
and reports errors as OpenAI does ({"error": {"message": ...}}). A server can be
told to fail every chat request with a status, or to answer only after a delay.
"""

import json
import select
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.rag.providers import GenerationParams, ProviderError, ProviderUnavailable
from apps.rag.providers.base import ChatMessage
from apps.rag.providers.local import LocalProvider
from tests.serving import serving

_local_providers: dict[Path, LocalProvider] = {}


def session_model_cache(tmp_path_factory: Any) -> Path:
    """The model cache of the test session's settings (its throw-away DATA_DIR): the GGUF is converted once."""
    return Path(settings.MODEL_CACHE_DIR)


def shared_local_provider(cache_dir: Path) -> LocalProvider:
    """One LocalProvider per model cache for the whole test session, so the model is loaded once."""
    if cache_dir not in _local_providers:
        _local_providers[cache_dir] = LocalProvider(cache_dir=cache_dir)
    return _local_providers[cache_dir]


def unused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class ChatServer:
    provider: LocalProvider
    flavour: str  # "tgi" | "openai"
    api_key: str = ""  # openai: the bearer token every request must carry
    fail_status: int | None = None  # answer every chat request with this status
    delay_s: float = 0.0  # wait this long before answering a chat request
    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)  # chat request bodies, in order
    headers: list[dict[str, str]] = field(default_factory=list)  # their headers, names in lower case


class _ChatHandler(BaseHTTPRequestHandler):
    server_version = "test-chat-server"
    chat: ChatServer  # set on the subclass made for each server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        if self.chat.flavour == "tgi" and self.path == "/health":
            self._send_json(200, {})
        elif self.chat.flavour == "tgi" and self.path == "/info":
            self._send_json(200, {"model_id": self.chat.provider.model, "max_total_tokens": 8192, "version": "test"})
        elif self.path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [{"id": self.chat.provider.model, "object": "model"}]})
        else:
            self._send_error(404, "Not found")

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._send_error(404, "Not found")
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.chat.requests.append(body)
        self.chat.headers.append({k.lower(): v for k, v in self.headers.items()})
        if not self._wait_for_delay():
            return  # the client gave up waiting: nothing to answer
        if self.chat.api_key and self.headers.get("Authorization") != f"Bearer {self.chat.api_key}":
            key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            return self._send_error(401, f"Incorrect API key provided: {key}")  # echoed, as some servers do
        if self.chat.fail_status:
            return self._send_error(self.chat.fail_status, "The model is overloaded, try again later")
        messages = [ChatMessage(m["role"], m["content"]) for m in body.get("messages", [])]
        stop = body.get("stop") or ()
        # As TGI (model -> adapter_id) and vLLM (a LoRA module's name) do: a model naming a loaded adapter selects it.
        model = body.get("model") or ""
        params = GenerationParams(
            max_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or 256),
            temperature=float(body.get("temperature") or 0.0),
            stop=(stop,) if isinstance(stop, str) else tuple(stop),
            adapter=model if model in getattr(self.chat.provider, "adapters", {}) else "",
        )
        try:
            if body.get("stream"):
                self._stream(messages, params)
            else:
                self._complete(messages, params)
        except ProviderUnavailable as exc:
            self._send_error(503, str(exc))
        except ProviderError as exc:  # the request is bad: TGI answers 422, OpenAI 400
            self._send_error(422 if self.chat.flavour == "tgi" else 400, str(exc))

    def _wait_for_delay(self) -> bool:
        """Sleep the configured delay; False when the client hangs up meanwhile."""
        deadline = time.monotonic() + self.chat.delay_s
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                return False
        return True

    def _complete(self, messages: list[ChatMessage], params: GenerationParams) -> None:
        generation = self.chat.provider.generate(messages, params)
        usage = {"prompt_tokens": generation.prompt_tokens, "completion_tokens": generation.completion_tokens}
        usage["total_tokens"] = sum(usage.values())
        message = {"role": "assistant", "content": generation.text}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        self._send_json(200, {**self._envelope("chat.completion"), "choices": [choice], "usage": usage})

    def _stream(self, messages: list[ChatMessage], params: GenerationParams) -> None:
        deltas = self.chat.provider.stream(messages, params)
        first = next(deltas, None)  # a bad request fails here, in time for a 4xx status
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        envelope = self._envelope("chat.completion.chunk")
        pieces = [first] if first is not None else []
        with suppress(BrokenPipeError, ConnectionResetError):  # the client may stop reading early
            for piece in _chain(pieces, deltas):
                delta = {"role": "assistant", "content": piece}
                self._send_event({**envelope, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            end = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": "stop"}
            self._send_event({**envelope, "choices": [end]})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    def _envelope(self, kind: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": kind,
            "created": int(time.time()),
            "model": self.chat.provider.model,
            "system_fingerprint": f"{self.chat.flavour}-test",
        }

    def _send_event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()  # each delta leaves now, not when the answer is complete

    def _send_error(self, status: int, message: str) -> None:
        if self.chat.flavour == "tgi":
            body: dict[str, Any] = {"error": message, "error_type": "validation" if status < 500 else "overloaded"}
        else:
            body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
        self._send_json(status, body)

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        with suppress(BrokenPipeError, ConnectionResetError):  # a client that timed out has gone
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


@contextmanager
def serve_chat(provider: LocalProvider, *, flavour: str, **options: Any) -> Iterator[ChatServer]:
    """A chat server with the given front on a free port of 127.0.0.1, for the duration of the block."""
    chat = ChatServer(provider=provider, flavour=flavour, **options)
    # Closing waits for the request threads: one still generating at interpreter exit would abort it.
    with serving(type("Handler", (_ChatHandler,), {"chat": chat}), daemon_threads=False) as base_url:
        chat.base_url = base_url
        yield chat
