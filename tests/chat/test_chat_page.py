"""The chat page for signed-in people (/chat/) and the conversation API calls it relies on."""

import re

import pytest
from rest_framework.test import APIClient

from apps.chat.keys import api_key_create
from apps.chat.models import Conversation
from apps.sources.models import Author

pytestmark = pytest.mark.django_db


def test_a_visitor_is_sent_to_the_sign_in_and_a_non_staff_user_gets_in(client, outsider):
    response = client.get("/chat/")
    assert (response.status_code, response["Location"]) == (302, "/chat/login/?next=/chat/")
    assert client.post("/chat/login/", {"username": "outsider", "password": "wrong"}).status_code == 200
    response = client.post("/chat/login/", {"username": "outsider", "password": "pw-outsider-1", "next": "/chat/"})
    assert (response.status_code, response["Location"]) == (302, "/chat/")
    page = client.get("/chat/").content.decode()
    assert "Signed in as <strong>outsider</strong>" in page


def test_the_page_offers_the_twins_the_user_may_talk_to(client, outsider):
    Author.objects.create(name="Grace Hopper")
    Author.objects.create(name="Ada Example")
    client.force_login(outsider)
    page = client.get("/chat/").content.decode()
    options = re.findall(r'<option value="([^"]*)">([^<]*)</option>', page)
    assert options == [("", "All authors"), ("Ada Example", "Ada Example"), ("Grace Hopper", "Grace Hopper")]


def test_with_no_twin_open_to_the_user_the_page_says_so_and_offers_no_question_box(client, outsider, monkeypatch):
    from apps.chat.completions import selectors

    Author.objects.create(name="Ada Example")
    # As per-author access will have it for someone given none: not even the all-authors twin is offered.
    monkeypatch.setattr(selectors, "authors_readable", lambda *, user: Author.objects.none())
    client.force_login(outsider)
    page = client.get("/chat/").content.decode()
    assert "No twin is open to you yet" in page and '<form id="ask-form" class="ask" method="post" hidden>' in page


def test_the_page_loads_nothing_from_other_sites(client, outsider):
    client.force_login(outsider)
    page = client.get("/chat/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert assets and all(url.startswith("/") for url in assets), assets


def test_signing_out_takes_a_post_and_ends_the_session(client, outsider):
    client.force_login(outsider)
    assert client.post("/chat/logout/")["Location"] == "/chat/login/"
    assert client.get("/chat/").status_code == 302


def test_a_conversation_is_renamed_by_its_owner_only_and_listed_by_channel(outsider, django_user_model):
    mine = Conversation.objects.create(user=outsider, title="sourdough?", channel="web")
    Conversation.objects.create(user=outsider, title="from an app", channel="openai")
    theirs = Conversation.objects.create(user=django_user_model.objects.create_user(username="bob"), title="bob's")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=outsider, name='t')[1]}")

    response = api.patch(f"/api/v1/conversations/{mine.pk}", {"title": "  Bread   timings "}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Bread timings"
    assert api.patch(f"/api/v1/conversations/{theirs.pk}", {"title": "x"}, format="json").status_code == 404
    response = api.patch(f"/api/v1/conversations/{mine.pk}", {"title": "   "}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "title"
    assert [c["title"] for c in api.get("/api/v1/conversations", {"channel": "web"}).json()] == ["Bread timings"]
    assert len(api.get("/api/v1/conversations").json()) == 2
    assert api.get("/api/v1/conversations", {"channel": "fax"}).json()["error"]["field"] == "channel"
