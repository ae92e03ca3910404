"""Chat through a running ASGI server: the answer streams as Server-Sent Events, read by a real HTTP client."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.db import connection

from apps.chat.keys import api_key_create
from apps.chat.models import Message
from tests.rag.corpus import crawl_corpus, write_corpus

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(transactional_db):
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TWINSITE_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "twinsite.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.stdout.read()
        try:
            httpx.get(f"{base}/healthz", timeout=2)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the ASGI server did not come up"
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=30)


def sse_events(response: httpx.Response):
    """(event, data, arrival time) for each Server-Sent Event of a streamed response."""
    event, data = None, []
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            data.append(line[len("data: ") :])
        elif line == "" and event:
            yield event, json.loads("\n".join(data)), time.monotonic()
            event, data = None, []


def test_chat_streams_tokens_then_the_cited_answer(server, tmp_path, serve_dir, crawl_settings, django_user_model):
    folder = tmp_path / "blog"
    write_corpus(folder)
    crawl_corpus(folder, serve_dir(folder))
    user = django_user_model.objects.create_user(username="app", password="pw-app-1")
    _, key = api_key_create(user=user, name="stream test")
    headers = {"Authorization": f"Bearer {key}"}
    body = {"message": "How long does the sourdough proof, and where?", "stream": True, "max_tokens": 40}

    with httpx.stream("POST", f"{server}/api/v1/chat", json=body, headers=headers, timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(sse_events(response))

    names = [name for name, _, _ in events]
    assert names[-1] == "done" and names.count("done") == 1
    tokens = [data["token"] for name, data, _ in events if name == "token"]
    assert len(tokens) > 3
    assert events[0][2] < events[-1][2]  # tokens arrived before the end, not all at once
    done = events[-1][1]
    assert done["answer"].strip() and done["trace_id"]
    assert any(c["title"] == "My sourdough routine" for c in done["citations"])
    stored = Message.objects.get(pk=done["message_id"])
    assert stored.role == "assistant" and str(stored.conversation_id) == done["conversation_id"]

    follow_up = {"message": "At what temperature?", "conversation_id": done["conversation_id"], "max_tokens": 16}
    reply = httpx.post(f"{server}/api/v1/chat", json=follow_up, headers=headers, timeout=120).json()
    assert reply["conversation_id"] == done["conversation_id"]
    assert Message.objects.filter(conversation_id=done["conversation_id"]).count() == 4
