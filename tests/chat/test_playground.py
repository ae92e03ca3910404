"""The operator playground page and its trace endpoint: staff only, the authors to pick, a trace's node timings."""

import re
import uuid

import pytest
from django.urls import reverse

from apps.monitoring.services import trace_record
from tests.factories import make_author

pytestmark = pytest.mark.django_db

PLAYGROUND = "/playground/"
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


def author_options(page: str) -> list[tuple[str, str]]:
    select = re.search(r'<select id="playground-author" name="author">(.*?)</select>', page, re.S)
    assert select, "the page has no author select"
    return re.findall(r'<option value="([^"]*)">([^<]*)</option>', select.group(1))


def record_chat_trace():
    spans = [
        {"node": "rewrite", "duration_ms": 812.4, "model": MODEL, "completion_tokens": 22},
        {"node": "self_query", "duration_ms": 3.1},
        {"node": "retrieve", "duration_ms": 41.7, "model": "sentence-transformers/all-MiniLM-L6-v2"},
        {"node": "rerank", "duration_ms": 0.2},
        {"node": "generate", "duration_ms": 2210.9, "model": MODEL, "prompt_tokens": 431, "completion_tokens": 32},
    ]
    state = {
        "answer": "Overnight, in the fridge.",
        "model": MODEL,
        "prompt_tokens": 431,
        "completion_tokens": 54,
        "spans": spans,
    }
    return trace_record(kind="chat", question="Where does the dough proof?", state=state, total_ms=3068.3)


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get(PLAYGROUND)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={PLAYGROUND}"


def test_signed_in_users_who_are_not_staff_do_not_get_the_page(client, outsider):
    client.force_login(outsider)
    response = client.get(PLAYGROUND)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert "playground-question" not in response.content.decode()


def test_staff_get_the_page_with_every_author_to_pick(client, django_user_model):
    make_author(name="Grace Hopper")
    make_author(name="Ada Lovelace")
    operator = django_user_model.objects.create_user(username="operator", password="pw-operator-1", is_staff=True)
    client.force_login(operator)

    response = client.get(PLAYGROUND)

    assert response.status_code == 200
    page = response.content.decode()
    assert author_options(page) == [
        ("", "Any author"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("Grace Hopper", "Grace Hopper"),
    ]
    assert '<label for="playground-question">Question</label>' in page
    assert '<label for="playground-max-tokens">Max tokens</label>' in page
    assert re.search(r'id="playground-max-tokens"[^>]*min="1" max="1024" value="128"', page)
    assert f'data-chat-url="{reverse("api-chat")}"' in page
    # The script sends the session's CSRF token: the page renders it and sets the cookie it comes from.
    token = re.search(r'data-csrf-token="([^"]+)"', page).group(1)
    assert token and response.cookies["csrftoken"].value
    assert re.search(r'<script src="/static/chat/playground\.js" defer>', page)


def test_the_playground_only_renders_on_get(client, curator):
    client.force_login(curator)
    assert client.post(PLAYGROUND, {"message": "hi"}).status_code == 405


def test_the_trace_endpoint_gives_staff_each_nodes_timing_in_order(client, curator):
    trace = record_chat_trace()
    client.force_login(curator)

    response = client.get(f"{PLAYGROUND}traces/{trace.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(trace.pk) and body["status"] == "ok" and body["total_ms"] == 3068.3
    assert (body["model"], body["prompt_tokens"], body["completion_tokens"]) == (MODEL, 431, 54)
    assert [span["node"] for span in body["spans"]] == ["rewrite", "self_query", "retrieve", "rerank", "generate"]
    generate = body["spans"][-1]
    assert generate == {
        "node": "generate",
        "duration_ms": 2210.9,
        "model": MODEL,
        "prompt_tokens": 431,
        "completion_tokens": 32,
    }
    assert body["spans"][1]["model"] == "" and body["spans"][1]["prompt_tokens"] is None
    # A superuser may open the read-only Trace admin page, so the page links it.
    assert body["admin_url"] == reverse("admin:monitoring_trace_change", args=[trace.pk])


def test_staff_without_access_to_the_trace_admin_get_timings_but_no_admin_link(client, django_user_model):
    trace = record_chat_trace()
    operator = django_user_model.objects.create_user(username="operator", password="pw-operator-1", is_staff=True)
    client.force_login(operator)
    body = client.get(f"{PLAYGROUND}traces/{trace.pk}").json()
    assert len(body["spans"]) == 5 and body["admin_url"] is None


def test_the_trace_endpoint_refuses_everyone_but_staff(client, outsider):
    trace = record_chat_trace()
    url = f"{PLAYGROUND}traces/{trace.pk}"

    anonymous = client.get(url)
    client.force_login(outsider)
    not_staff = client.get(url)

    for response in (anonymous, not_staff):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert "spans" not in response.json()


def test_an_unknown_trace_is_a_404_with_a_message(client, curator):
    client.force_login(curator)
    missing = uuid.uuid4()
    response = client.get(f"{PLAYGROUND}traces/{missing}")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"No trace has the id {missing}."
