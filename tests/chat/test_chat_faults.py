"""Chats that meet a fault: a client that hangs up, a model backend that dies part-way, PostgreSQL restarting.

A real uvicorn serves the site; the model backend is a real HTTP server on 127.0.0.1 (tests/chat/backend.py)
behind the OpenAI-compatible provider, streaming sentences of the corpus so that the groundedness check lets
them through. Both chat APIs are exercised: /api/v1/chat (``event:`` SSE) and /v1/chat/completions (OpenAI's).
The server reaches PostgreSQL through a proxy that can go through a restart (tests/chat/dbproxy.py).
"""

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from django.db import connection

from apps.chat.keys import api_key_create
from apps.chat.models import Message
from apps.monitoring.models import Trace
from tests.asgi import asgi_server
from tests.chat.backend import ScriptedBackend, serve_backend
from tests.chat.dbproxy import PostgresProxy, postgres_proxy
from tests.rag.corpus import POSTS, crawl_corpus, write_corpus

pytestmark = pytest.mark.django_db(transaction=True)

SENTENCES = POSTS["sourdough"][1]  # the author's own words: every one is supported by a retrieved passage
QUESTION = "How does the sourdough dough rest and proof?"


@pytest.fixture(scope="module")
def backend() -> Iterator[ScriptedBackend]:
    with serve_backend(ScriptedBackend()) as running:
        yield running


@pytest.fixture(scope="module")
def database(django_db_setup) -> Iterator[PostgresProxy]:
    host, port = connection.settings_dict["HOST"], connection.settings_dict["PORT"] or 5432
    with postgres_proxy(Path(host) / f".s.PGSQL.{port}") as proxy:
        yield proxy


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, backend, database, tmp_path_factory) -> Iterator[str]:
    with (
        django_db_blocker.unblock(),
        asgi_server(
            tmp_path_factory.mktemp("chat-faults"),
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{database.port}/twinsite",
            LLM_PROVIDER="openai",
            OPENAI_BASE_URL=f"{backend.base_url}/v1",
            LLM_TIMEOUT_S="10",
            RAG_ANSWER_MODE="generate",
            RAG_EXPANSION="off",
            RAG_FAITHFULNESS_SAMPLE="0",
        ) as base,
    ):
        yield base


@pytest.fixture
def headers(tmp_path, serve_dir, crawl_settings, django_user_model) -> dict[str, str]:
    folder = tmp_path / "blog"
    write_corpus(folder)
    crawl_corpus(folder, serve_dir(folder))
    user = django_user_model.objects.create_user(username="streamer", password="pw-streamer-1")
    return {"Authorization": f"Bearer {api_key_create(user=user, name='stream faults')[1]}"}


def _script(backend: ScriptedBackend, *, answer: str, pace_s: float, drop_after: int | None) -> None:
    backend.answer, backend.pace_s, backend.drop_after = answer, pace_s, drop_after
    backend.words_sent, backend.hung_up_at = 0, None


def native_events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """(kind, data) of /api/v1/chat's events: kind is token, done or error; data["text"] for a token."""
    event = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            data = json.loads(line[len("data: ") :])
            yield event, {**data, "text": data.get("token", "")}


def openai_events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """The same for /v1/chat/completions: content deltas are tokens, an error object ends the stream."""
    for line in response.iter_lines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        data = json.loads(line[len("data: ") :])
        if "error" in data:
            yield "error", data
        elif data["choices"] and (text := data["choices"][0]["delta"].get("content")):
            yield "token", {"text": text}
        elif data["choices"] and data["choices"][0]["finish_reason"]:
            yield "done", data


ENDPOINTS: dict[str, tuple[str, Callable[[str], dict], Callable]] = {
    "native": ("/api/v1/chat", lambda q: {"message": q, "stream": True, "author": "Ada", "max_tokens": 1024},
               native_events),
    "openai": ("/v1/chat/completions", lambda q: {"model": "twin-ada-example", "stream": True, "max_tokens": 1024,
               "messages": [{"role": "user", "content": q}]}, openai_events),
}  # fmt: skip


def _wait_for(find: Callable, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while (found := find()) is None:
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)
    return found


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_client_that_hangs_up_stops_the_generation_and_the_trace_says_so(endpoint, server, backend, headers):
    path, body, events = ENDPOINTS[endpoint]
    # About 20 s of answer at this pace: the backend finishing it would mean the generation was never stopped.
    _script(backend, answer=" ".join(SENTENCES * 20), pace_s=0.01, drop_after=None)

    with httpx.stream("POST", f"{server}{path}", json=body(QUESTION), headers=headers, timeout=60) as response:
        assert response.status_code == 200
        first = next(data["text"] for kind, data in events(response) if kind == "token")
    left_at = time.monotonic()  # the block closed the connection mid-answer

    trace = _wait_for(lambda: Trace.objects.filter(status=Trace.Status.CLIENT_DISCONNECTED).first())
    hung_up_at = _wait_for(lambda: backend.hung_up_at)
    print(f"the backend's stream was closed {hung_up_at - left_at:.2f} s after the client left")
    assert backend.words_sent < len(backend.words)
    assert trace.error == "The client disconnected before the answer was complete."
    assert trace.answer.startswith(first) and trace.spans.count() >= 5  # the nodes that ran are kept
    kept = Message.objects.get(role=Message.Role.ASSISTANT)
    assert kept.incomplete is True and kept.trace_id == trace.pk and kept.content == trace.answer


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_backend_that_dies_mid_answer_ends_the_stream_with_an_error_and_keeps_the_partial_answer(
    endpoint, server, backend, headers
):
    path, body, events = ENDPOINTS[endpoint]
    two_sentences = len(" ".join(SENTENCES[:2]).split(" "))
    _script(backend, answer=" ".join(SENTENCES), pace_s=0.0, drop_after=two_sentences + 3)

    with httpx.stream("POST", f"{server}{path}", json=body(QUESTION), headers=headers, timeout=60) as response:
        assert response.status_code == 200
        received = list(events(response))

    kinds = [kind for kind, _ in received]
    assert kinds[-1] == "error" and "done" not in kinds
    error = received[-1][1]["error"]
    assert error["code"] == "model_unavailable" and "cannot be reached" in error["message"]
    shown = "".join(data["text"] for kind, data in received if kind == "token")
    # Each sentence was checked and cited (the one passage holds both) before it was shown.
    assert shown == " ".join(sentence.removesuffix(".") + " [1]." for sentence in SENTENCES[:2])
    kept = Message.objects.get(role=Message.Role.ASSISTANT)
    assert kept.incomplete is True and kept.content == shown
    trace = Trace.objects.get(pk=kept.trace_id)
    assert trace.status == Trace.Status.ERROR and trace.answer == shown and "ProviderUnavailable" in trace.error

    detail = httpx.get(f"{server}/api/v1/conversations/{kept.conversation_id}", headers=headers, timeout=30).json()
    assert [(m["role"], m["incomplete"]) for m in detail["messages"]] == [("user", False), ("assistant", True)]


def test_postgresql_restarting_during_a_chat_is_a_503_then_chat_works_again_without_a_restart(
    server, backend, headers, database
):
    path, body, events = ENDPOINTS["native"]
    _script(backend, answer=" ".join(SENTENCES * 2), pace_s=0.01, drop_after=None)
    with httpx.stream("POST", f"{server}{path}", json=body(QUESTION), headers=headers, timeout=60) as response:
        received = events(response)
        assert next(kind for kind, _ in received) == "token"
        database.restart()  # mid-answer: every connection dropped, new ones refused
        rest = list(received)
    assert rest[-1][0] == "error" and rest[-1][1]["error"]["code"] == "database_unavailable"

    while_down = httpx.post(f"{server}/api/v1/chat", json={"message": QUESTION}, headers=headers, timeout=60)
    assert while_down.status_code == 503 and while_down.headers["Retry-After"] == "30"
    assert while_down.json() == {
        "error": {"code": "database_unavailable", "message": "The database is not answering; try again shortly."}
    }
    models = httpx.get(f"{server}/v1/models", headers=headers, timeout=60)
    assert models.status_code == 503 and models.json()["error"]["code"] == "database_unavailable"

    database.restore()
    _script(backend, answer=SENTENCES[0], pace_s=0.0, drop_after=None)
    again = httpx.post(f"{server}/api/v1/chat", json={"message": QUESTION}, headers=headers, timeout=60)
    assert again.status_code == 200, again.text
    assert again.json()["answer"] == SENTENCES[0].removesuffix(".") + " [1]."
