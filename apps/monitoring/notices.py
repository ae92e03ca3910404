"""Notices for operators (Notice): opened, raised and resolved from the state right now, emailed once.

``crawl_notices_sync`` and ``backend_notice_sync`` are called by the periodic operations check
(apps.rag.health.operations_check, on beat); a notice is emailed to active staff users with an address,
through Django's mail settings, when it is raised, unless it was muted.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.monitoring.models import Notice
from apps.monitoring.selectors import crawl_failures_in_a_row
from apps.sources.models import CrawlRun, Source
from lib.redaction import url_redact


def _open(kind: str, subject: str, *, now: datetime) -> Notice:
    notice, _ = Notice.objects.get_or_create(
        kind=kind, subject=subject, resolved_at=None, defaults={"first_seen_at": now, "message": ""}
    )
    return notice


def _resolve_others(kind: str, *, keep: set[str], now: datetime) -> None:
    Notice.objects.filter(kind=kind, resolved_at__isnull=True).exclude(subject__in=keep).update(resolved_at=now)


def _crawl_message(source: Source, failures: int) -> str:
    last = CrawlRun.objects.filter(source=source, status=CrawlRun.Status.FAILED).order_by("-finished_at").first()
    error = (last.errors[-1].get("error", "") if last and last.errors else "") or "no error recorded"
    return f"Source {url_redact(source.url)} ({source.author}) failed its last {failures} crawls. Last error: {error}"


@transaction.atomic
def crawl_notices_sync(*, now: datetime | None = None) -> list[Notice]:
    """A raised notice per active source that failed NOTICE_CRAWL_FAILURES crawls or more in a row; the
    notices of sources that crawl again resolved. Returns the notices raised now."""
    now = now or timezone.now()
    threshold = settings.NOTICE_CRAWL_FAILURES
    failing = {source_id: n for source_id, n in crawl_failures_in_a_row().items() if n >= threshold}
    raised = []
    for source in Source.objects.filter(pk__in=failing).select_related("author"):
        notice = _open(Notice.Kind.CRAWL_FAILING, str(source.pk), now=now)
        notice.message = _crawl_message(source, failing[source.pk])
        if notice.raised_at is None:
            notice.raised_at = now
            raised.append(notice)
        notice.save()
    _resolve_others(Notice.Kind.CRAWL_FAILING, keep={str(source_id) for source_id in failing}, now=now)
    return raised


@transaction.atomic
def backend_notice_sync(*, provider: str, down_reason: str | None, now: datetime | None = None) -> list[Notice]:
    """Track the model backend: down since the first failed check, raised once down NOTICE_BACKEND_DOWN_MINUTES,
    resolved by a check that finds it up. Returns the notices raised now."""
    now = now or timezone.now()
    if down_reason is None:
        _resolve_others(Notice.Kind.BACKEND_DOWN, keep=set(), now=now)
        return []
    notice = _open(Notice.Kind.BACKEND_DOWN, provider, now=now)
    minutes = (now - notice.first_seen_at) / timedelta(minutes=1)
    notice.message = f"The {provider} model backend has been down for {minutes:.0f} min: {down_reason}"
    raised = []
    if notice.raised_at is None and minutes >= settings.NOTICE_BACKEND_DOWN_MINUTES:
        notice.raised_at = now
        raised.append(notice)
    notice.save()
    _resolve_others(Notice.Kind.BACKEND_DOWN, keep={provider}, now=now)
    return raised


def notices_email(*, notices: list[Notice], now: datetime | None = None) -> int:
    """Email each notice not muted nor emailed yet to the active staff users with an address; returns how many
    notices were sent."""
    recipients = list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    sent = 0
    for notice in notices:
        notice.refresh_from_db()
        if notice.muted or notice.emailed_at is not None or not recipients:
            continue
        send_mail(f"[Twinsite] {notice}", notice.message, None, recipients)
        Notice.objects.filter(pk=notice.pk).update(emailed_at=now or timezone.now())
        sent += 1
    return sent


def notice_mute(*, notice: Notice, muted: bool = True) -> Notice:
    notice.muted = muted
    notice.save(update_fields=["muted"])
    return notice
