"""A model backend over real HTTP on 127.0.0.1 that streams a scripted answer at a set pace, for stream faults.

It speaks the chat completions API that both remote providers use (TGI's /v1 and OpenAI-compatible servers),
and answers their health probes (GET /health, /v1/models):
a streamed request gets ``answer`` word by word, ``pace_s`` apart, as chunked Server-Sent Events; a request
that is not streamed gets ``reply``. ``drop_after`` words in, it closes the connection without ending the
chunked body, as a backend that crashes or restarts does. It records how many words it sent and when the
reader hung up.
"""

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.serving import serving


@dataclass
class ScriptedBackend:
    answer: str = ""
    reply: str = ""
    pace_s: float = 0.0
    drop_after: int | None = None  # words sent before the connection is dropped; None: never
    base_url: str = ""
    words_sent: int = 0
    hung_up_at: float | None = None  # time.monotonic() when a write found the reader gone
    streams: list[dict[str, Any]] = field(default_factory=list)  # streamed request bodies

    @property
    def words(self) -> list[str]:
        return self.answer.split(" ")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked bodies: a dropped connection is an incomplete body, not an end
    backend: ScriptedBackend

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # TGI's /health and the model list: what a health probe reads
        if self.path not in ("/health", "/v1/models"):
            self.send_error(404)
            return
        data = json.dumps({"object": "list", "data": [{"id": "scripted", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if body.get("stream"):
            self.backend.streams.append(body)
            self._stream()
        else:
            self._complete()

    def _complete(self) -> None:
        message = {"role": "assistant", "content": self.backend.reply}
        payload = {
            **_envelope("chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        backend = self.backend
        try:
            for n, word in enumerate(backend.words):
                if backend.drop_after is not None and n >= backend.drop_after:
                    self.connection.shutdown(socket.SHUT_RDWR)  # mid-body: no final chunk, no [DONE]
                    self.close_connection = True
                    return
                delta = {"role": "assistant", "content": word if n == 0 else " " + word}
                self._chunk(_event({**_envelope("chat.completion.chunk"), "choices": [_choice(delta, None)]}))
                backend.words_sent += 1
                time.sleep(backend.pace_s)
            self._chunk(_event({**_envelope("chat.completion.chunk"), "choices": [_choice({}, "stop")]}))
            self._chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            backend.hung_up_at = time.monotonic()
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _envelope(kind: str) -> dict[str, Any]:
    return {"id": "chatcmpl-scripted", "object": kind, "created": int(time.time()), "model": "scripted"}


def _choice(delta: dict, finish_reason: str | None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def _event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


@contextmanager
def serve_backend(backend: ScriptedBackend) -> Iterator[ScriptedBackend]:
    """Serve the backend on a free port of 127.0.0.1 for the duration of the block."""
    with serving(type("Handler", (_Handler,), {"backend": backend})) as base_url:
        backend.base_url = base_url
        yield backend
