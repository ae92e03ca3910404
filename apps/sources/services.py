"""Writes to sources: creating them, keeping their beat schedules in sync, and crawl runs."""

import json
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from apps.core.tasks import task_send
from apps.sources.crawlers import guess_kind
from apps.sources.crawlers.paths import import_path, is_local_path
from apps.sources.credentials import credentials_seal, url_credentials_split
from apps.sources.cron import cron_fields
from apps.sources.models import Author, CrawlRun, Source
from lib.errors import TwinsiteError
from lib.redaction import url_redact

SCHEDULED_CRAWL_TASK = "workers.crawl.crawl_source_scheduled"


def _periodic_task_name(source: Source) -> str:
    return f"Crawl source #{source.pk}"


# The URL schemes each kind of source is read through; a path (no scheme) suits the kinds in _PATH_KINDS.
_SCHEMES = {
    "article": {"http", "https"},
    "feed": {"http", "https"},
    "sitemap": {"http", "https"},
    "site": {"http", "https"},
    "github": {"https"},
    "export": set(),
    "warehouse": {"mongodb", "mongodb+srv"},
}
_PATH_KINDS = {"github", "export", "warehouse"}
CREDENTIAL_KINDS = {"github", "warehouse"}


def source_check_location(*, kind: str, url: str) -> None:
    """A URL the kind can be read through, or an absolute path inside IMPORT_ROOTS (never the server's own files).

    ``kind`` may be empty (still to be guessed): then any scheme some kind reads is accepted.
    """
    url = url.strip()
    if not is_local_path(url) and re.search(r"[\\\s]", url.split("?", 1)[0]):
        # "https://1.1.1.1\@127.0.0.1/": parsers disagree on which host that names.
        raise TwinsiteError(
            f"{url_redact(url)} has a backslash or a space before its query; write the URL with / and %20."
        )
    url, userinfo = url_credentials_split(url)
    scheme = url.partition("://")[0].lower() if not is_local_path(url) else ""
    if userinfo and (scheme not in {"https", "mongodb", "mongodb+srv"} or kind not in {"", *CREDENTIAL_KINDS}):
        raise TwinsiteError(
            "Credentials in the URL are only used for https git repositories and mongodb:// warehouses; "
            f"remove them from {url}."
        )
    if url.lower().startswith("file:"):
        raise TwinsiteError("file: URLs are not accepted; give a path inside an import folder instead.")
    if is_local_path(url):
        if kind and kind not in _PATH_KINDS:
            raise TwinsiteError(f"A {kind} source is fetched over http(s); {url} is not an http(s) URL.")
        import_path(url, roots=settings.IMPORT_ROOTS)
        return
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:  # e.g. "http://[": an unclosed IPv6 bracket
        raise TwinsiteError(f"{url} is not a URL that can be fetched: {exc}.") from None
    accepted = _SCHEMES.get(kind) if kind else set().union(*_SCHEMES.values())
    if accepted is not None and scheme not in accepted:
        what = " or ".join(f"{name}://" for name in sorted(accepted)) or "an absolute path"
        raise TwinsiteError(f"A {kind or 'source'} URL must be {what}, not {scheme}://.")


@transaction.atomic
def source_schedule_sync(*, source: Source) -> PeriodicTask | None:
    """Make the beat schedule match the source: a cron task while active and scheduled, none otherwise.

    Beat's DatabaseScheduler notices the change on its next tick: no restart needed.
    """
    name = _periodic_task_name(source)
    if not (source.schedule and source.active):
        PeriodicTask.objects.filter(name=name).delete()
        return None
    crontab, _ = CrontabSchedule.objects.get_or_create(
        **cron_fields(source.schedule), timezone=settings.CELERY_TIMEZONE
    )
    task, _ = PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": SCHEDULED_CRAWL_TASK,
            "crontab": crontab,
            "interval": None,
            "kwargs": json.dumps({"source_id": source.pk}),
            "queue": "crawl",
            "enabled": True,
            "description": f"Re-crawl {source.url} ({source.author})",
        },
    )
    return task


@transaction.atomic
def source_save(*, source: Source, credentials: str | None = None) -> Source:
    """Validate and save a source, then sync its schedule.

    Credentials ("user:token") are sealed apart from the URL: userinfo in the URL, else ``credentials``
    (None keeps the stored ones, "" clears them).
    """
    source_check_location(kind=source.kind, url=source.url)
    source.url, userinfo = url_credentials_split(source.url)
    if userinfo:
        credentials = userinfo
    if credentials is not None:
        if credentials and source.kind not in CREDENTIAL_KINDS:
            raise TwinsiteError("Credentials are only used for git repositories and MongoDB warehouses.")
        source.credentials = credentials_seal(credentials)
    source.full_clean()
    source.save()
    source_schedule_sync(source=source)
    return source


def source_create(
    *, author: Author, url: str, kind: str | None = None, schedule: str = "", options: dict | None = None
) -> Source:
    source_check_location(kind=kind or "", url=url)  # before guessing the kind, which parses the URL
    url, credentials = url_credentials_split(url)
    kind = kind or guess_kind(url)
    source = Source(author=author, url=url, kind=kind, schedule=schedule.strip(), options=options or {})
    try:
        return source_save(source=source, credentials=credentials or None)
    except ValidationError as exc:
        problems = "; ".join(
            " ".join(msgs) if field == NON_FIELD_ERRORS else f"{field}: {' '.join(msgs)}"
            for field, msgs in exc.message_dict.items()
        )
        raise TwinsiteError(problems) from None


@transaction.atomic
def source_delete(*, source: Source) -> None:
    PeriodicTask.objects.filter(name=_periodic_task_name(source)).delete()
    source.delete()


@transaction.atomic
def crawl_run_create(*, source: Source) -> CrawlRun:
    run = CrawlRun.objects.create(source=source)
    Source.objects.filter(pk=source.pk).update(last_crawl_status=Source.CrawlStatus.QUEUED)
    return run


def crawl_run_enqueue(*, source: Source) -> CrawlRun:
    """Queue a crawl on the crawl workers; the task is sent once the run is committed."""
    with transaction.atomic():
        run = crawl_run_create(source=source)
        task_send("workers.crawl.crawl_source", run.pk)
    return run
