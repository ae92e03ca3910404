"""Notices for staff: a source whose crawls keep failing, a model backend down for minutes (real HTTP)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.monitoring.models import Notice
from apps.rag.health import operations_check
from apps.sources.models import CrawlRun
from tests.chat.backend import ScriptedBackend, serve_backend
from tests.factories import make_source
from tests.rag.servers import unused_url
from tests.sources.blog import run_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    django_user_model.objects.create_user(username="nobody", password="pw-nobody-1", email="nobody@example.org")
    return django_user_model.objects.create_user(
        username="ops", password="pw-ops-1", email="ops@example.org", is_staff=True, is_superuser=True
    )


def banner(client) -> str:
    page = client.get("/admin/").content.decode()
    start = page.find('id="operations-notices"')
    return "" if start < 0 else page[start : page.index("</ul>", start)]


def test_a_source_failing_n_crawls_in_a_row_raises_a_banner_and_one_email_until_muted(
    client, staff, settings, crawl_settings
):
    settings.NOTICE_CRAWL_FAILURES = 2
    source = make_source(kind="site", url=f"{unused_url()}/index.html")
    client.force_login(staff)

    assert run_once(source).status == CrawlRun.Status.FAILED
    assert operations_check() == {"raised": 0, "emailed": 0} and banner(client) == ""
    run_once(source)
    assert operations_check() == {"raised": 1, "emailed": 1}
    assert operations_check() == {"raised": 0, "emailed": 0}  # raised once, emailed once

    (email,) = mail.outbox
    assert email.to == ["ops@example.org"] and email.subject == f"[Twinsite] Crawls keep failing: {source.pk}"
    assert "failed its last 2 crawls" in email.body and "connection" in email.body
    assert f"Source {source.url}" in banner(client)

    notice = Notice.objects.get()
    response = client.post(
        "/admin/monitoring/notice/", {"action": "mute", "_selected_action": [notice.pk]}, follow=True
    )
    assert response.status_code == 200 and Notice.objects.get().muted is True
    assert banner(client) == ""


def test_a_source_that_crawls_again_resolves_its_notice(staff, settings, tmp_path, serve_dir, crawl_settings):
    settings.NOTICE_CRAWL_FAILURES = 1
    source = make_source(kind="site", url=f"{unused_url()}/index.html")
    run_once(source)
    operations_check()
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<html><body><p>Back again, with a page.</p></body></html>")
    source.url = f"{serve_dir(tmp_path / 'site')}/index.html"
    source.save()

    assert run_once(source).status == CrawlRun.Status.SUCCEEDED
    operations_check()
    assert Notice.objects.get().resolved_at is not None


def test_a_backend_down_m_minutes_is_raised_then_resolved_when_it_answers(client, staff, settings):
    settings.LLM_PROVIDER, settings.TGI_URL, settings.LLM_TIMEOUT_S = "tgi", unused_url(), 2
    settings.NOTICE_BACKEND_DOWN_MINUTES = 5
    client.force_login(staff)
    start = timezone.now()

    assert operations_check(now=start) == {"raised": 0, "emailed": 0}  # down, but not for long yet
    assert banner(client) == "" and Notice.objects.get().raised_at is None
    assert operations_check(now=start + timedelta(minutes=5)) == {"raised": 1, "emailed": 1}
    (email,) = mail.outbox
    assert email.subject == "[Twinsite] Model backend down: tgi"
    assert email.body.startswith(f"The tgi model backend has been down for 5 min: The TGI server at {settings.TGI_URL}")
    assert "has been down for 5 min" in banner(client)

    with serve_backend(ScriptedBackend()) as backend:
        settings.TGI_URL = backend.base_url
        operations_check(now=start + timedelta(minutes=6))
    notice = Notice.objects.get()
    assert notice.resolved_at == start + timedelta(minutes=6) and banner(client) == ""
