"""Finding 2: credentials in source URLs are kept out of ``url`` and never shown.

The attack: a staff key adds sources whose URLs carry a git token and a MongoDB password; a non-staff
key lists the sources; crawls fail and leave errors, log lines and admin pages behind. None of them may
show the secret, while the crawlers still get it.
"""

import logging
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from apps.sources.crawling import crawl_run_execute
from apps.sources.credentials import credentials_open
from apps.sources.models import CrawlRun, Source
from apps.sources.services import crawl_run_create
from tests.factories import make_author
from tests.security.listeners import mongo_command, mongo_hello_reply, tcp_listener

pytestmark = pytest.mark.django_db
MIGRATION = import_module("apps.sources.migrations.0004_source_credentials")

TOKEN = "ghp_Z9secretTOKENvalue0123456789abcd"
PASSWORD = "s3cret-Mongo-pw"
GIT_URL = f"https://x-access-token:{TOKEN}@github.com/ada/engine.git"
MONGO_URL = f"mongodb://twin:{PASSWORD}@db.example.org:27017/twin"


def _no_secret(text: str) -> None:
    assert TOKEN not in text and PASSWORD not in text


def test_credentials_given_in_a_url_are_sealed_apart_and_never_listed(staff_api, user_api):
    author = make_author(name="Ada Example")
    for url in (GIT_URL, MONGO_URL):
        response = staff_api.post("/api/v1/sources", {"author": author.name, "url": url}, format="json")
        assert response.status_code == 201
        _no_secret(response.content.decode())
        assert response.json()["has_credentials"] is True

    listing = user_api.get("/api/v1/sources")
    _no_secret(listing.content.decode())
    assert sorted(s["url"] for s in listing.json()) == [
        "https://github.com/ada/engine.git",
        "mongodb://db.example.org:27017/twin",
    ]
    git = Source.objects.get(kind="github")
    assert TOKEN not in git.credentials and credentials_open(git.credentials) == f"x-access-token:{TOKEN}"


@pytest.mark.parametrize(
    "url",
    [f"https://ada:{PASSWORD}@ada.example/feed/", f"http://x-access-token:{TOKEN}@git.example.org/a.git"],
)
def test_credentials_are_refused_where_nothing_would_use_them_without_echoing_them(staff_api, url):
    response = staff_api.post("/api/v1/sources", {"author": make_author().name, "url": url}, format="json")
    assert response.status_code == 400
    _no_secret(response.content.decode())
    assert not Source.objects.exists()


def test_the_admin_lists_and_forms_never_show_them(client, django_user_model, staff_api):
    staff_api.post("/api/v1/sources", {"author": make_author().name, "url": GIT_URL}, format="json")
    admin = django_user_model.objects.create_superuser(username="root", password="pw-root-1")
    client.force_login(admin)
    source = Source.objects.get()
    for page in (reverse("admin:sources_source_changelist"), reverse("admin:sources_source_change", args=[source.pk])):
        response = client.get(page)
        assert response.status_code == 200
        _no_secret(response.content.decode())


def test_a_failed_clone_records_no_token_and_the_log_redacts_urls(crawl_settings):
    author = make_author()
    with tcp_listener() as listener:  # not TLS: git's https connection fails after the handshake starts
        url = f"https://x-access-token:{TOKEN}@{listener.address}/ada/engine.git"
        source = Source.objects.create(author=author, kind="github", url=url)  # as stored before this fix
        MIGRATION.move_credentials_out_of_urls(django_apps, None)  # as the migration moves it
        source.refresh_from_db()
        assert source.url == f"https://{listener.address}/ada/engine.git" and source.has_credentials
        run = crawl_run_execute(run_id=crawl_run_create(source=source).pk, on_document=lambda _: None)

    assert run.status == CrawlRun.Status.FAILED and listener.connections == 1
    _no_secret(str(run.errors))
    assert "Could not clone" in run.errors[-1]["error"]
    console = next(h for h in logging.getLogger().handlers if h.formatter and "Redacting" in type(h.formatter).__name__)
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "Cloning %s failed", (f"{url} (retry)",), None)
    assert console.format(record).endswith(f"Cloning https://***@{listener.address}/ada/engine.git (retry) failed")


def test_the_mongodb_password_reaches_the_driver_but_not_the_uri_or_the_errors(crawl_settings):
    with tcp_listener(respond=mongo_hello_reply) as listener:
        url = f"mongodb://twin:{PASSWORD}@{listener.address}/twin"
        from apps.sources.services import source_create

        source = source_create(author=make_author(), url=url, kind="warehouse")
        assert source.url == f"mongodb://{listener.address}/twin"
        run = crawl_run_execute(run_id=crawl_run_create(source=source).pk, on_document=lambda _: None)

    assert run.status == CrawlRun.Status.FAILED
    _no_secret(str(run.errors))
    commands = [mongo_command(message) for message in listener.received]
    hello = next(command for command in commands if "saslSupportedMechs" in command)
    assert hello["saslSupportedMechs"] == "twin.twin"  # the driver was given the user (and its password)
    assert any("saslStart" in command for command in commands)  # and went on to authenticate
    assert PASSWORD.encode() not in b"".join(listener.received)  # SCRAM never sends the password itself
