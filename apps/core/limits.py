"""Request bodies over MAX_REQUEST_BYTES are refused before they are read, and before authentication.

An ASGI wrapper around the whole site (twinsite/asgi.py): Django's ASGI handler reads a body in full
before any middleware or view runs, so a 200 MB POST would be read to answer 401. A declared
Content-Length over the limit is refused at once; a body without one (chunked) is read up to the
limit and refused as soon as it passes it. Answers use the API's error envelope.
"""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class RequestSizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"The request body is over {self.max_bytes} bytes (MAX_REQUEST_BYTES)."
        declared = [value for name, value in scope.get("headers", ()) if name.lower() == b"content-length"]
        if declared:
            if len(set(declared)) > 1 or not declared[0].strip().isdigit():
                await _refuse(send, 400, "malformed", "The Content-Length header is not one whole number.")
            elif int(declared[0]) > self.max_bytes:
                await _refuse(send, 413, "too_large", too_large)
            else:
                await self.app(scope, receive, send)
            return
        # No length declared: read at most the limit, then hand Django what was read.
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await _refuse(send, 413, "too_large", too_large)
                return
            if not message.get("more_body"):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)
