"""The OpenAI-compatible API's contract (/v1): models per twin, OpenAI's error shape, refused parameters.

Answers from the model are tested through real SDKs against a running server in test_openai_sdk.py.
"""

import pytest
from rest_framework.test import APIClient

from apps.chat.completions.rendering import sources_text
from apps.chat.keys import api_key_create, api_key_revoke
from apps.chat.models import Conversation
from apps.sources.models import Author
from tests.rag.corpus import crawl_corpus, write_corpus
from tests.rag.servers import serve_chat, session_model_cache, shared_local_provider, unused_url

pytestmark = pytest.mark.django_db

QUESTION = [{"role": "user", "content": "How do you back up PostgreSQL?"}]


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw-alice-1")


@pytest.fixture
def api(alice) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=alice, name='sdk')[1]}")
    return client


def openai_error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_models_are_one_per_author_with_a_slug_plus_one_for_all_authors(api, settings):
    Author.objects.create(name="Ada Example")
    Author.objects.create(name="Zoë Ünal")
    Author.objects.create(name="ada example!")  # the same slug as the first: the newer one gets its id added
    settings.LLM_PROVIDER = "local"
    body = api.get("/v1/models").json()
    later = Author.objects.get(name="ada example!")
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [
        "twin",
        "twin-ada-example",
        f"twin-ada-example-{later.pk}",
        "twin-zoe-unal",
    ]
    ada = body["data"][1]
    assert (ada["object"], ada["owned_by"], ada["name"]) == ("model", "twinsite", "Ada Example (twin)")
    assert ada["metadata"] == {"author": "Ada Example", "model_version": "smollm2-135m-instruct", "provider": "local"}
    assert body["data"][0]["metadata"]["author"] is None
    assert ada["created"] == int(Author.objects.get(name="Ada Example").created_at.timestamp())


def test_a_missing_wrong_or_revoked_key_is_a_401_in_openais_shape(alice):
    client = APIClient()
    for header in (None, "Bearer tw_deadbeef_not-a-real-key", "Basic YWxpY2U6cHc="):
        if header:
            client.credentials(HTTP_AUTHORIZATION=header)
        response = client.post("/v1/chat/completions", {"model": "twin", "messages": QUESTION}, format="json")
        assert response.status_code == 401
        error = openai_error(response)
        assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
    api_key, key = api_key_create(user=alice, name="soon revoked")
    api_key_revoke(api_key=api_key)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.get("/v1/models")
    assert response.status_code == 401 and "revoked" in openai_error(response)["message"]


def test_a_signed_in_session_is_not_enough_for_v1(client, alice):
    client.force_login(alice)
    assert client.get("/v1/models").status_code == 401


@pytest.mark.parametrize(
    ("change", "param", "code"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools", "unsupported_parameter"),
        ({"n": 2}, "n", "unsupported_parameter"),
        ({"logprobs": True}, "logprobs", "unsupported_parameter"),
        ({"response_format": {"type": "json_object"}}, "response_format", "unsupported_parameter"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            "messages[0].content[0]",
            "unsupported_parameter",
        ),
        ({"messages": [{"role": "tool", "content": "42", "tool_call_id": "a"}]}, "messages[0].role", None),
        ({"messages": [*QUESTION, {"role": "assistant", "content": "Hm"}]}, "messages[1].role", None),
        ({"messages": []}, "messages", None),
        ({"temperature": 3}, "temperature", "max_value"),
        ({"top_p": 0}, "top_p", None),
        ({"max_tokens": 0}, "max_tokens", "min_value"),
        ({"max_completion_tokens": 5000}, "max_completion_tokens", "max_value"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", None),
        ({"stream_options": {"include_usage": True}}, "stream_options", None),
        ({"model": None}, "model", "null"),
    ],
)
def test_bad_or_unsupported_parameters_are_a_400_naming_the_param(api, change, param, code):
    Author.objects.create(name="Ada Example")
    body = {"model": "twin", "messages": QUESTION, **change}
    response = api.post("/v1/chat/completions", body, format="json")
    assert response.status_code == 400
    error = openai_error(response)
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert error["message"].startswith(f"{param}: ")
    if code:
        assert error["code"] == code
    assert not Conversation.objects.exists()  # nothing stored for a refused request


def test_an_unknown_model_is_a_404_naming_the_model(api):
    Author.objects.create(name="Ada Example")
    response = api.post("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION}, format="json")
    assert response.status_code == 404
    error = openai_error(response)
    assert (error["code"], error["param"]) == ("model_not_found", "model") and "gpt-4o" in error["message"]


def test_an_author_renamed_with_the_old_name_as_alias_keeps_its_model_id(api, settings):
    settings.LLM_PROVIDER, settings.TGI_URL = "tgi", unused_url()
    Author.objects.create(name="Ada Lovelace", aliases=["Ada Example"])
    response = api.post("/v1/chat/completions", {"model": "twin-ada-example", "messages": QUESTION}, format="json")
    assert response.status_code == 503  # found: it went on to the (closed) model backend
    assert Conversation.objects.get().author_name == "Ada Lovelace"


@pytest.mark.django_db(transaction=True)  # the graph reads the corpus from threads of its own
def test_sampling_parameters_and_stop_sequences_reach_the_model_backend(
    api, settings, tmp_path, tmp_path_factory, serve_dir, crawl_settings
):
    """The answer's generation request, as an OpenAI-compatible model server receives it."""
    folder = tmp_path / "blog"
    write_corpus(folder)
    crawl_corpus(folder, serve_dir(folder))
    local = shared_local_provider(session_model_cache(tmp_path_factory))
    with serve_chat(local, flavour="openai", api_key="backend-key") as backend:
        settings.LLM_PROVIDER, settings.OPENAI_BASE_URL = "openai", f"{backend.base_url}/v1"
        settings.OPENAI_API_KEY, settings.RAG_ANSWER_MODE = "backend-key", "generate"
        body = {
            "model": "twin-ada-example",
            "messages": [{"role": "user", "content": "How long does the sourdough proof, and where?"}],
            "max_completion_tokens": 9,
            "temperature": 0.7,
            "top_p": 0.5,
            "stop": ["END", "Fin."],
        }
        response = api.post("/v1/chat/completions", body, format="json")
    assert response.status_code == 200, response.content
    answering = [r for r in backend.requests if "Fin." in (r.get("stop") or [])]
    assert len(answering) == 1  # the answer's generation; the graph's other calls keep their own settings
    sent = answering[0]
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"]) == (9, 0.7, 0.5)
    assert sent["stop"][-2:] == ["END", "Fin."] and "Sources:" in sent["stop"]  # the graph's own stops stay


def test_malformed_json_unknown_paths_and_methods_get_openais_shape(api):
    response = api.generic("POST", "/v1/chat/completions", "{not json", content_type="application/json")
    assert response.status_code == 400 and openai_error(response)["code"] == "malformed_json"
    response = api.get("/v1/completions")
    assert response.status_code == 404 and openai_error(response)["code"] == "not_found"
    response = api.get("/v1/chat/completions")
    assert response.status_code == 405 and openai_error(response)["code"] == "method_not_allowed"


def test_throttling_is_a_429_with_retry_after(api, monkeypatch):
    from apps.chat.throttles import KeyRateThrottle

    monkeypatch.setattr(KeyRateThrottle, "THROTTLE_RATES", {**KeyRateThrottle.THROTTLE_RATES, "api": "2/min"})
    assert [api.get("/v1/models").status_code for _ in range(3)] == [200, 200, 429]
    response = api.get("/v1/models")
    error = openai_error(response)
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded") and int(response["Retry-After"]) > 0


def test_a_model_backend_that_is_down_is_a_503_with_retry_after(api, settings, alice):
    settings.LLM_PROVIDER, settings.TGI_URL = "tgi", unused_url()
    earlier = [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
    ]
    body = {"model": "twin", "messages": [*earlier, *QUESTION], "user": "end-user-7"}
    response = api.post("/v1/chat/completions", body, format="json")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    error = openai_error(response)
    assert (error["type"], error["code"]) == ("server_error", "model_unavailable") and "cannot be reached" in error[
        "message"
    ]
    # The call is a conversation of the key's user all the same: its history stored, the system prompt not.
    conversation = Conversation.objects.get()
    assert (conversation.user, conversation.channel, conversation.end_user) == (alice, "openai", "end-user-7")
    stored = list(conversation.messages.values_list("role", "content"))
    assert stored == [("user", "Hi"), ("assistant", "Hello!"), ("user", "How do you back up PostgreSQL?")]


def test_the_schema_documents_the_openai_routes(api):
    paths = api.get("/api/schema/?format=json").json()["paths"]
    assert "post" in paths["/v1/chat/completions"] and "get" in paths["/v1/models"]
    responses = paths["/v1/chat/completions"]["post"]["responses"]
    assert {"200", "400", "401", "404", "429", "503"} <= set(responses)


def test_the_sources_list_escapes_markdown_in_titles_and_links_only_web_addresses():
    citations = [
        {"n": 1, "title": "Backups [draft](javascript:alert(1))", "document_url": "https://ex.org/a b(1)"},
        {"n": 3, "title": "Notes", "document_url": "/imports/notes.md"},
    ]
    assert sources_text(citations) == (
        "\n\nSources:\n"
        "- [1] [Backups \\[draft\\]\\(javascript:alert\\(1\\)\\)](https://ex.org/a%20b%281%29)\n"
        "- [3] Notes"
    )
    assert sources_text([]) == ""


def test_an_answer_that_cites_nothing_lists_the_best_three_retrieved_as_such():
    retrieved = [
        {"n": n, "title": f"Post {n}", "document_url": f"https://ex.org/{n}", "cited": False} for n in (1, 2, 3, 4)
    ]
    assert sources_text(retrieved) == (
        "\n\nSources (retrieved, not cited):\n"
        "- [1] [Post 1](https://ex.org/1)\n- [2] [Post 2](https://ex.org/2)\n- [3] [Post 3](https://ex.org/3)"
    )
