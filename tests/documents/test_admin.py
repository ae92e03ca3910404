"""Curation in the admin: staff only, filters and search, include / exclude with a reason."""

import pytest
from django.urls import reverse

from apps.documents.models import Document
from tests.factories import make_author, make_chunk, make_document, make_source

pytestmark = pytest.mark.django_db


def test_curation_screens_are_for_staff_only(client, outsider):
    changelist = reverse("admin:documents_document_changelist")
    assert client.get(changelist).status_code == 302  # anonymous: to the login page
    client.force_login(outsider)
    response = client.get(changelist)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_documents_filter_by_author_kind_and_curation_and_search(client, curator):
    ada = make_author(name="Ada Lovelace")
    make_document(source=make_source(author=ada), title="Notes on the Engine")
    make_document(source=make_source(kind="feed"), title="Someone else's feed post")
    client.force_login(curator)
    url = reverse("admin:documents_document_changelist")

    page = client.get(url, {"author__id__exact": ada.pk}).content.decode()
    assert "Notes on the Engine" in page and "feed post" not in page
    page = client.get(url, {"source__kind__exact": "feed"}).content.decode()
    assert "feed post" in page and "Notes on the Engine" not in page
    page = client.get(url, {"q": "engine"}).content.decode()
    assert "Notes on the Engine" in page and "feed post" not in page
    assert "By curation state" in client.get(url).content.decode()


def test_exclude_asks_for_a_reason_then_excludes(client, curator):
    document = make_document(title="Draft I regret")
    client.force_login(curator)
    url = reverse("admin:documents_document_changelist")
    form = {"action": "exclude_documents", "_selected_action": [document.pk]}

    confirm = client.post(url, form)
    assert confirm.status_code == 200 and "Reason (required)" in confirm.content.decode()
    document.refresh_from_db()
    assert document.curation_state == Document.Curation.INCLUDED

    response = client.post(url, {**form, "apply": "Exclude", "reason": "  "}, follow=True)
    assert "reason is required" in response.content.decode()
    document.refresh_from_db()
    assert document.curation_state == Document.Curation.INCLUDED

    client.post(url, {**form, "apply": "Exclude", "reason": "Off topic"})
    document.refresh_from_db()
    assert (document.curation_state, document.exclusion_reason) == ("excluded", "Off topic")

    client.post(url, {"action": "include_documents", "_selected_action": [document.pk]})
    document.refresh_from_db()
    assert (document.curation_state, document.exclusion_reason) == ("included", "")


def test_chunks_are_read_only_and_link_to_their_document(client, curator):
    chunk = make_chunk(text="A retrievable passage.")
    client.force_login(curator)
    page = client.get(reverse("admin:documents_chunk_change", args=[chunk.pk])).content.decode()
    assert reverse("admin:documents_document_change", args=[chunk.document_id]) in page
    assert 'name="text"' not in page  # no editable field
    assert client.get(reverse("admin:documents_chunk_add")).status_code == 403


def test_crawl_runs_show_inline_on_their_source(client, curator):
    source = make_source()
    source.crawl_runs.create(status="failed", errors=[{"url": source.url, "error": "HTTP 500"}], pages_failed=1)
    client.force_login(curator)
    page = client.get(reverse("admin:sources_source_change", args=[source.pk])).content.decode()
    assert "Crawl runs" in page and "Failed" in page
