"""A real HTTP server on 127.0.0.1 for the HTTP client tests: each path answers with a small handler function."""

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class SeenRequest:
    path: str
    headers: dict[str, str]  # lower-cased names
    at: float  # time.monotonic() when it arrived


def answer(
    body: bytes | str = b"",
    *,
    status: int = 200,
    content_type: str = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
    content_length: bool = True,
) -> Handler:
    """A fixed answer. Without content_length the body ends when the connection closes (HTTP/1.0)."""
    payload = body.encode() if isinstance(body, str) else body

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        if content_length:
            request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    return handle


def redirect(location: str, status: int = 302) -> Handler:
    return answer(status=status, headers={"Location": location})


def endless(chunk: bytes, *, every_s: float = 0.0, total: int = 64 * 1024 * 1024) -> Handler:
    """A close-delimited body of up to `total` bytes, written in chunks, optionally slowly."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.end_headers()
        for _ in range(total // len(chunk)):
            request.wfile.write(chunk)
            request.wfile.flush()
            time.sleep(every_s)

    return handle


class LocalSite:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.seen: list[SeenRequest] = []
        site = self

        class RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.seen.append(
                    SeenRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
                )
                handler = site.routes.get(self.path) or answer("<h1>Not found</h1>", status=404)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    handler(self)  # the client may stop reading early, as it should past a limit

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def paths_seen(self) -> list[str]:
        return [request.path for request in self.seen]

    def __enter__(self) -> "LocalSite":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
