"""The API fuzzed from its own OpenAPI schema: whatever a client sends, it never gets a 5xx or a bare error.

Schemathesis reads /api/schema/ from a real uvicorn server on the test database
(authenticated as staff, so the staff-only operations are fuzzed too) and sends
valid and invalid requests to every operation. The model backend is a closed
port, so chat answers 503 `model_unavailable` at once: that one 5xx is the
documented answer, any other is a bug. Crawls started by the fuzzer are only
queued, on a broker database no test worker reads.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import schemathesis
from django.conf import settings as django_settings
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode, Response

from apps.chat.keys import api_key_create
from apps.chat.models import Conversation, Message
from tests.asgi import asgi_server
from tests.factories import make_author, make_source
from tests.rag.servers import unused_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)
# Other tests run Celery workers on broker database 0; tasks queued here must never reach them.
FUZZ_BROKER_DB = 7
EXPECTED_5XX = {("/api/v1/chat", 503, "model_unavailable"), ("/v1/chat/completions", 503, "model_unavailable")}
MAX_EXAMPLES = 25  # per operation, valid and invalid requests together
# Problems are collected, not raised, so shrinking would have nothing to shrink.
NO_SHRINK = [Phase.explicit, Phase.generate]


def _broker_url(db: int) -> str:
    parts = urlsplit(django_settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        username="fuzz-admin", password="pw-fuzz-1", is_staff=True, is_superuser=True
    )


@pytest.fixture
def staff_key(staff) -> str:
    return api_key_create(user=staff, name="schemathesis")[1]


@pytest.fixture
def known_rows(staff) -> dict[str, Any]:
    """Rows the fuzzer cannot guess: half the requests name them, so the paths past the lookups run too."""
    source = make_source(author=make_author(name="Ada Example"))
    conversation = Conversation.objects.create(user=staff, title="Backups")
    Message.objects.create(conversation=conversation, role="user", content="How do you back up PostgreSQL?")
    answer = Message.objects.create(conversation=conversation, role="assistant", content="With pg_dump [1].")
    ids = {"source_id": source.pk, "conversation_id": str(conversation.pk), "message_id": answer.pk}
    return {"path": ids, "author": source.author.name, "model": "twin"}


@pytest.fixture
def api_server(transactional_db, tmp_path) -> Iterator[str]:
    broker = _broker_url(FUZZ_BROKER_DB)
    settings = {
        "LLM_PROVIDER": "tgi",
        "TGI_URL": unused_url(),  # refused at once: chat fails fast with 503
        "REDIS_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",  # a crawl request queues, never runs in the server
        # The fuzzer sends far more than a person would; throttling is tested in test_api.py.
        "THROTTLE_CHAT": "100000/min",
        "THROTTLE_SEARCH": "100000/min",
        "THROTTLE_API": "100000/min",
        "LOG_LEVEL": "ERROR",
    }
    with asgi_server(tmp_path, **settings) as base:
        yield base
    redis.Redis.from_url(broker).flushdb()  # the queued crawls go with the test


@pytest.fixture
def api_schema(api_server, staff_key):
    # Failure reports show the request as sent: unsanitised, schemathesis would mask "author" and "max_tokens".
    # The key itself never appears: the report's curl command names a placeholder instead.
    config = schemathesis.Config.from_dict({"output": {"sanitization": {"enabled": False}}})
    return schemathesis.openapi.from_url(
        f"{api_server}/api/schema/?format=json",
        headers={"Authorization": f"Bearer {staff_key}"},
        timeout=30,
        config=config,
    )


def envelope_problem(status: int, body: Any) -> str | None:
    """Why an error body is not the API's envelope {"error": {"code", "message"}}, or None when it is."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"a {status} without the error envelope"
    if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str) and error["message"]):
        return f"a {status} whose envelope lacks a code or a message"
    return None


def error_body(response: Response) -> Any:
    """An error's JSON: the body, or for a client that asked for Server-Sent Events, the data of its error event
    (``event: error`` on /api/, a bare data event on /v1/, as OpenAI sends it)."""
    text = response.text
    if (response.headers.get("content-type") or [""])[0].startswith("text/event-stream"):
        lines = text.splitlines()
        if lines[:1] != ["event: error"] and not (lines[:1] and lines[0].startswith("data: {")):
            return None
        text = "\n".join(line.removeprefix("data: ") for line in lines if line.startswith("data: "))
    try:
        return json.loads(text)
    except ValueError:
        return None


def response_problem(case: Case, response: Response) -> str | None:
    """What is wrong with the API's answer to a fuzzed request: a 5xx, or an error without the envelope."""
    if response.status_code < 400:
        return None
    body = error_body(response)
    problem = envelope_problem(response.status_code, body)
    code = None if problem else body["error"]["code"]
    if response.status_code >= 500 and (case.operation.path, response.status_code, code) not in EXPECTED_5XX:
        problem = f"a server error {response.status_code}"
    return problem


def aimed_at(case: Case, known_rows: dict[str, Any]) -> Case:
    """The case, sent to rows that exist: their ids in the path, and the known author (or twin) wherever one is
    named."""
    for name in case.path_parameters or {}:
        case.path_parameters[name] = known_rows["path"].get(name, case.path_parameters[name])
    for fields in (case.query, case.body):
        for name in ("author", "model"):
            if isinstance(fields, dict) and name in fields:
                fields[name] = known_rows[name]
    return case


def fuzz_operation(operation: APIOperation, base_url: str, key: str, known_rows: dict[str, Any]) -> list[str]:
    """Send valid and invalid requests for one operation; describe each distinct problem found.

    Plain Hypothesis over the operation's strategies: schemathesis' own runner for a schema that a fixture
    loads (`schemathesis.pytest.from_fixture`) fails on pytest 9.2 (it sets `Node._nodeid`, now gone).
    """
    problems: dict[str, str] = {}
    generated = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    cases = [*generated, *(strategy.map(lambda case: aimed_at(case, known_rows)) for strategy in generated)]

    # derandomize: the same requests on every run; the example database is not written to the checkout.
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None, phases=NO_SHRINK,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=st.one_of(*cases))
    def send(case: Case) -> None:
        response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        problem = response_problem(case, response)
        if problem and problem not in problems:
            request = case.as_curl_command(headers={"Authorization": "Bearer <staff key>"}, base_url=base_url)
            problems[problem] = f"{operation.label}: {problem}\n  {request}\n  -> {response.text[:300]}"

    send()
    return list(problems.values())


def test_no_request_gets_a_server_error_or_a_bare_error(api_schema, api_server, staff_key, known_rows):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    operations.sort(key=lambda operation: operation.method == "delete")  # the known rows live until the end
    labels = {operation.label for operation in operations}
    assert {"POST /api/v1/chat", "GET /api/v1/search", "POST /api/v1/sources/{source_id}/crawl"} <= labels
    assert {"GET /v1/models", "POST /v1/chat/completions"} <= labels
    problems = [
        problem for operation in operations for problem in fuzz_operation(operation, api_server, staff_key, known_rows)
    ]
    assert not problems, "\n".join(problems)
