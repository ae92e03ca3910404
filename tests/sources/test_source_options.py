"""Each kind's options, set from the command line, the admin or the API, and refused there by name when wrong."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.chat.keys import api_key_create
from apps.sources.models import Source
from apps.sources.options import OptionError, source_options_clean
from tests.factories import make_author

pytestmark = pytest.mark.django_db


def test_add_source_takes_the_kinds_options_typed(capsys, tmp_path):
    export = tmp_path / "substack.zip"
    export.write_bytes(b"")
    call_command(
        "add_source", "--author", "Jo Martin", "--url", str(export), "--kind", "export",
        "--option", "base_url=https://oncallnotes.substack.com/", "--option", "include_drafts=true",
        "--option", "authors=Jo Martin,Sam Lee",
    )  # fmt: skip

    source = Source.objects.get(pk=int(capsys.readouterr().out))
    assert source.options == {
        "base_url": "https://oncallnotes.substack.com",
        "include_drafts": True,
        "authors": ["Jo Martin", "Sam Lee"],
    }


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("include_draft=true", '"include_draft" is not an option of export sources (they take: authors, base_url,'),
        ("include_drafts=maybe", "Option \"include_drafts\": 'maybe' is not true or false."),
        ("base_url=jane.substack.com", "Option \"base_url\": 'jane.substack.com' is not an http(s) address."),
        ("format=tumblr", "Option \"format\": 'tumblr' is not one of medium, substack, linkedin, notion, files."),
        ("include_drafts", '"include_drafts" is not an option: write it as name=value'),
    ],
)
def test_add_source_refuses_a_wrong_option_naming_it(tmp_path, option, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        call_command(
            "add_source", "--author", "Jo", "--url", str(tmp_path / "x.zip"), "--kind", "export", "--option", option
        )
    assert not Source.objects.exists()


@pytest.mark.parametrize(
    ("kind", "options", "cleaned"),
    [
        ("site", {"max_pages": "50", "max_depth": 0, "path_prefix": "/blog/"},
         {"max_pages": 50, "max_depth": 0, "path_prefix": "/blog/"}),
        ("sitemap", {"path_filter": "^/20\\d\\d/"}, {"path_filter": "^/20\\d\\d/"}),
        ("warehouse", {"authors": ["Paul Iusztin", "Maxime Labonne"]}, {"authors": ["Paul Iusztin", "Maxime Labonne"]}),
    ],
)  # fmt: skip
def test_options_are_typed_per_kind(kind, options, cleaned):
    assert source_options_clean(kind=kind, options=options) == cleaned


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("site", {"max_pages": 0}, 'Option "max_pages": 0 is below the least allowed, 1.'),
        ("site", {"path_prefix": "blog/"}, "Option \"path_prefix\": 'blog/' must start with /."),
        ("sitemap", {"path_filter": "^/blog/("}, 'Option "path_filter": missing ), unterminated subpattern'),
        ("feed", {"max_pages": 3}, '"max_pages" is not an option of feed sources (they take: authors).'),
    ],
)
def test_wrong_options_are_refused_by_name(kind, options, message):
    with pytest.raises(OptionError) as refused:
        source_options_clean(kind=kind, options=options)
    assert str(refused.value).startswith(message)


def test_the_admin_shows_the_option_error_on_the_options_field(client, curator):
    client.force_login(curator)
    author = make_author(name="Jo Martin")
    response = client.post(
        reverse("admin:sources_source_add"),
        {"author": author.pk, "kind": "site", "url": "https://jo.example/blog/", "options": '{"max_page": 10}',
         "active": "on", "schedule": ""},
    )  # fmt: skip

    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors
    assert errors["options"] == [
        '"max_page" is not an option of site sources (they take: authors, max_depth, max_pages, path_prefix).'
    ]
    assert not Source.objects.exists()


def test_the_api_refuses_a_wrong_option_with_the_field_named(django_user_model):
    from rest_framework.test import APIClient

    staff = django_user_model.objects.create_user(username="ops", password="pw-ops-1", is_staff=True)
    make_author(name="Jo Martin")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=staff, name='ops')[1]}")
    payload = {"author": "Jo Martin", "url": "https://jo.example/sitemap.xml", "options": {"max_pages": "lots"}}

    refused = client.post("/api/v1/sources", payload, format="json")
    payload["options"] = {"max_pages": "25", "path_filter": "^/blog/"}
    created = client.post("/api/v1/sources", payload, format="json")

    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "options"
    assert refused.json()["error"]["message"] == "options: Option \"max_pages\": 'lots' is not a whole number."
    assert created.status_code == 201
    assert created.json()["options"] == {"max_pages": 25, "path_filter": "^/blog/"}
