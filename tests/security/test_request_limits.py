"""Finding 6: oversized or deeply nested bodies are refused cleanly, before reading and before authentication.

The attack, against uvicorn on 127.0.0.1: bodies of 300 KB and 20 MB, an unauthenticated 200 MB POST
(declared, never sent: a server that reads before answering hangs), a chunked body with no length, and
JSON nested 50,000 deep. Each must get its status in the API's envelope, and the log no traceback.
"""

import json
import socket

import httpx
import pytest

from apps.chat.keys import api_key_create
from apps.chat.parsers import MAX_JSON_DEPTH
from tests.asgi import asgi_server

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 256 * 1024


def raw_post(base: str, path: str, *, headers: dict[str, str], body: bytes = b"") -> tuple[int, dict]:
    """Send a request by hand (the headers may promise more than is sent) and read the answer."""
    host, port = base.removeprefix("http://").split(":")
    head = "".join(f"{name}: {value}\r\n" for name, value in {"Host": host, **headers}.items())
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, json.loads(answer.split(b"\r\n\r\n", 1)[1])


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_bodies_too_large_or_too_deep_get_their_status_in_the_envelope(tmp_path, mallory):
    _, key = api_key_create(user=mallory, name="app")
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with asgi_server(tmp_path) as base:
        # 200 MB promised by a client without a key: refused at once, nothing read, no 401 first.
        status, body = raw_post(base, "/api/v1/chat", headers={"Content-Length": str(200 * 1024 * 1024)})
        assert (status, body["error"]["code"]) == (413, "too_large")
        assert str(LIMIT) in body["error"]["message"]
        # 20 MB promised with a key, 64 KB of it sent.
        headers = {**auth, "Content-Length": str(20 * 1024 * 1024)}
        assert raw_post(base, "/api/v1/chat", headers=headers, body=b"{" + b" " * 65535)[0] == 413
        # 300 KB sent whole.
        big = json.dumps({"message": "x" * 300 * 1024}).encode()
        status, body = raw_post(base, "/api/v1/chat", headers={**auth, "Content-Length": str(len(big))}, body=big)
        assert (status, body["error"]["code"]) == (413, "too_large")
        # 300 KB chunked, with no length at all.
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (big[:LIMIT], big[LIMIT:])) + b"0\r\n\r\n"
        status, body = raw_post(base, "/api/v1/chat", headers={**auth, "Transfer-Encoding": "chunked"}, body=chunked)
        assert (status, body["error"]["code"]) == (413, "too_large")
        # JSON nested 50,000 deep (100 KB: under the size limit).
        deep = ("[" * 50_000 + "]" * 50_000).encode()
        response = httpx.post(f"{base}/api/v1/chat", content=deep, headers=auth, timeout=30)
        assert response.status_code == 400
        assert response.json()["error"] == {
            "code": "malformed",
            "message": f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.",
        }
        # Just past the depth limit, inside an otherwise valid body.
        nested = {"message": "hi", "author": json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)}
        assert httpx.post(f"{base}/api/v1/chat", json=nested, headers=auth, timeout=30).status_code == 400
        # A small body still reaches the view (an empty message is the view's own 400, naming the field).
        response = httpx.post(f"{base}/api/v1/chat", json={"message": ""}, headers=auth, timeout=30)
        assert response.status_code == 400 and response.json()["error"]["field"] == "message"

    assert "Traceback" not in (tmp_path / "server.log").read_text()
