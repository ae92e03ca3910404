"""The chat API's contract: authentication, isolation between users, validation, errors, throttling."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.chat.keys import api_key_create, api_key_revoke
from apps.chat.models import Conversation, Feedback, Message
from apps.sources.models import Source
from tests.factories import make_author
from tests.rag.servers import unused_url

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/api/v1/chat"),
    ("get", "/api/v1/conversations"),
    ("get", "/api/v1/search?q=backups"),
    ("get", "/api/v1/authors"),
    ("get", "/api/v1/sources"),
    ("post", "/api/v1/messages/1/feedback"),
    ("get", "/api/schema/?format=json"),
]


def client_for(user, *, name: str = "test") -> APIClient:
    client = APIClient()
    _, key = api_key_create(user=user, name=name)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw-alice-1")


@pytest.fixture
def api(alice) -> APIClient:
    return client_for(alice)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_requires_authentication(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] in {"not_authenticated", "forbidden"}
    assert client.get("/healthz").status_code in (200, 503)  # the one open endpoint


def test_a_wrong_or_revoked_key_is_refused(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer tw_deadbeef_not-a-real-key")
    assert client.get("/api/v1/authors").status_code == 401
    api_key, key = api_key_create(user=alice, name="soon revoked")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/authors").status_code == 200
    api_key_revoke(api_key=api_key)
    response = client.get("/api/v1/authors")
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]
    assert api_key.key_hash != key and key not in api_key.key_hash


def test_create_api_key_command_prints_the_key_alone_on_its_last_line(alice, capsys):
    call_command("create_api_key", "--user", "alice", "--name", "ci")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/authors").status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "message"),
        ({"message": "hi", "conversation_id": "nope"}, "conversation_id"),
        ({"message": "x" * 5000}, "message"),
    ],
)
def test_validation_errors_name_the_field(api, payload, field):
    response = api.post("/api/v1/chat", payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["field"] == field and error["message"].startswith(f"{field}:")


def test_an_unknown_author_is_a_400_on_the_author_field(api):
    response = api.post("/api/v1/chat", {"message": "hi", "author": "Nobody Known"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "author"
    response = api.get("/api/v1/search", {"q": "x", "k": 0})
    assert response.status_code == 400 and response.json()["error"]["field"] == "k"


def test_malformed_json_and_unknown_paths_get_the_envelope(api):
    response = api.generic("POST", "/api/v1/chat", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed"
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_other_users_conversations_are_invisible(api, alice, django_user_model):
    bob = django_user_model.objects.create_user(username="bob", password="pw-bob-1")
    mine = Conversation.objects.create(user=alice, title="mine")
    theirs = Conversation.objects.create(user=bob, title="theirs")
    answer = Message.objects.create(conversation=theirs, role="assistant", content="secret")
    assert [c["id"] for c in api.get("/api/v1/conversations").json()] == [str(mine.pk)]
    assert api.get(f"/api/v1/conversations/{theirs.pk}").status_code == 404
    assert api.delete(f"/api/v1/conversations/{theirs.pk}").status_code == 404
    response = api.post("/api/v1/chat", {"message": "and?", "conversation_id": str(theirs.pk)}, format="json")
    assert response.status_code == 404
    assert api.post(f"/api/v1/messages/{answer.pk}/feedback", {"rating": "up"}, format="json").status_code == 404
    assert Conversation.objects.filter(pk=theirs.pk).exists() and not Feedback.objects.exists()
    assert api.delete(f"/api/v1/conversations/{mine.pk}").status_code == 204


def test_throttling_returns_429_with_retry_after(api, monkeypatch):
    from apps.chat.throttles import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "api": "3/min"})
    statuses = [api.get("/api/v1/authors").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/v1/authors")
    assert response.json()["error"]["code"] == "throttled" and int(response["Retry-After"]) > 0


def test_a_model_backend_that_is_down_gives_503_with_retry_after(api, settings):
    settings.LLM_PROVIDER, settings.TGI_URL = "tgi", unused_url()
    response = api.post("/api/v1/chat", {"message": "How do you back up PostgreSQL?"}, format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.json()
    assert body["error"]["code"] == "model_unavailable" and "Traceback" not in response.content.decode()


def test_feedback_is_stored_once_per_user_and_only_on_answers(api, alice):
    conversation = Conversation.objects.create(user=alice)
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    answer = Message.objects.create(conversation=conversation, role="assistant", content="a")
    url = f"/api/v1/messages/{answer.pk}/feedback"
    assert api.post(url, {"rating": "down", "edited_answer": "Better, in my words."}, format="json").status_code == 201
    assert api.post(url, {"rating": "up"}, format="json").status_code == 201
    feedback = Feedback.objects.get()
    assert (feedback.rating, feedback.edited_answer) == ("up", "")
    assert api.post(url, {"rating": "meh"}, format="json").json()["error"]["field"] == "rating"
    response = api.post(f"/api/v1/messages/{question.pk}/feedback", {"rating": "up"}, format="json")
    assert response.status_code == 400


def test_sources_are_read_by_anyone_and_written_by_staff_only(api, django_user_model, settings):
    make_author(name="Ada Example")
    payload = {"author": "ada example", "url": "https://ada.example/feed/"}
    assert api.post("/api/v1/sources", payload, format="json").status_code == 403
    staff = client_for(django_user_model.objects.create_user(username="staff", password="pw-staff-1", is_staff=True))
    response = staff.post("/api/v1/sources", payload, format="json")
    assert response.status_code == 201 and response.json()["kind"] == "feed"
    assert [s["url"] for s in api.get("/api/v1/sources").json()] == ["https://ada.example/feed/"]
    source = Source.objects.get()
    assert api.post(f"/api/v1/sources/{source.pk}/crawl").status_code == 403
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = staff.post(f"/api/v1/sources/{source.pk}/crawl")
    assert response.status_code == 202 and response.json()["status"] == "queued"


def test_schema_and_docs_are_served_from_this_site(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/chat", "/api/v1/search", "/api/v1/conversations"} <= set(paths)
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui" in page and "cdn" not in page.lower()


def test_an_sse_client_gets_errors_as_an_event(api):
    response = api.post("/api/v1/chat", {}, format="json", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/event-stream")
    assert response.content.decode().startswith('event: error\ndata: {"error": {"code": "invalid"')


def test_a_url_that_cannot_be_parsed_is_a_400_not_a_500(django_user_model):
    make_author(name="Ada Example")
    staff = client_for(django_user_model.objects.create_user(username="staff", password="pw-staff-1", is_staff=True))
    response = staff.post("/api/v1/sources", {"author": "Ada Example", "url": "http://["}, format="json")
    assert response.status_code == 400 and "not a URL" in response.json()["error"]["message"]
    assert not Source.objects.exists()
