"""Chat through a running ASGI server: the answer streams as Server-Sent Events, read by a real HTTP client."""

import json
import time
from pathlib import Path

import httpx
import pytest
from django.db import connection

from apps.chat.keys import api_key_create
from apps.chat.models import Message
from tests.asgi import asgi_server
from tests.rag.corpus import crawl_corpus, write_corpus

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(transactional_db, tmp_path):
    with asgi_server(tmp_path) as base:
        yield base


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
    assert tokens  # checked sentences one by one, or an extract at once: the graph decides how many
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


def test_many_requests_do_not_pile_up_database_connections(server, django_user_model):
    """Under ASGI each request's sync code runs in a thread of its own: kept connections would never be reused."""
    import asyncio

    user = django_user_model.objects.create_user(username="busy", password="pw-busy-1")
    _, key = api_key_create(user=user, name="load")
    headers = {"Authorization": f"Bearer {key}"}

    async def burst() -> list[int]:
        limit = asyncio.Semaphore(12)
        async with httpx.AsyncClient(base_url=server, headers=headers, timeout=60) as client:

            async def one() -> int:
                async with limit:
                    return (await client.get("/api/v1/authors")).status_code

            return await asyncio.gather(*(one() for _ in range(150)))

    statuses = asyncio.run(burst())
    assert statuses.count(200) == 150
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        (open_connections,) = cursor.fetchone()
    assert open_connections <= 20, f"{open_connections} connections left open"
