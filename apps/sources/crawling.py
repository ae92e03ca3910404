"""Running one crawl: the crawler's items become documents, and the run records what happened.

Each new or changed document is handed to ``on_document`` (the worker queues
its processing; ``--sync`` processes it in-process). A crawl of a source holds
a PostgreSQL advisory lock, so two runs of one source never interleave.

A run's counts describe the run once. A worker killed mid-crawl has its task delivered again
(late acks): the next attempt starts the counts over, and a document that an earlier attempt of the
same run stored counts as new or changed, not unchanged. After MAX_ATTEMPTS starts the run gives up
and says why, instead of killing worker after worker. A database that goes away mid-crawl is the same
kind of stop: nothing can be recorded then, so the error goes up for the caller to run the crawl again
once the database is back (the task retries; ``crawl --sync`` waits for it).
"""

import time
from collections.abc import Callable
from contextlib import suppress

from django.db import connection, transaction
from django.utils import timezone

from apps.core.database import DATABASE_DOWN_ERRORS
from apps.documents.models import Document
from apps.documents.services import document_upsert, documents_mark_gone
from apps.sources.authorship import Attribution, AuthorNotAllowed
from apps.sources.crawlers import crawler_for
from apps.sources.crawlers.base import (
    CrawledDocument,
    CrawlFailure,
    CrawlSkipped,
    CrawlUnchanged,
    KnownPage,
    SourceSpec,
)
from apps.sources.credentials import credentials_open, userinfo_parts
from apps.sources.models import CrawlRun, Source
from lib.errors import TwinsiteError
from lib.redaction import secrets_redact, url_redact
from lib.telemetry.metrics import CRAWL_PAGES, CRAWL_RUNS_FINISHED

_SAVE_EVERY_S = 1.0  # how often live counts reach the admin
_LOCK_NAMESPACE = 7301  # advisory-lock key space for crawls: (namespace, source id)
_MAX_ERRORS_KEPT = 500
MAX_ATTEMPTS = 3

DocumentCallback = Callable[[int], None]


def _try_lock_source(source_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, source_id])
        return cursor.fetchone()[0]


def _unlock_source(source_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, source_id])


def _finish(run: CrawlRun, status: str) -> CrawlRun:
    run.status, run.finished_at = status, timezone.now()
    run.save()
    Source.objects.filter(pk=run.source_id).update(last_crawl_status=status, last_crawled_at=run.finished_at)
    _count_finished(run)
    return run


def _count_finished(run: CrawlRun) -> None:
    """A run's pages are counted once, when it finishes: a redelivered attempt starts its counts over."""
    CRAWL_RUNS_FINISHED.labels(run.status).inc()
    pages = {
        "new": run.documents_new,
        "changed": run.documents_changed,
        "unchanged": run.documents_unchanged,
        "failed": run.pages_failed,
        "skipped": run.pages_skipped,
    }
    for outcome, count in pages.items():
        if count:
            CRAWL_PAGES.labels(outcome).inc(count)


def crawl_run_fail(*, run_id: int, error: str) -> None:
    """Record a run that stopped outside the crawl loop (a worker crash, a time limit)."""
    run = CrawlRun.objects.filter(pk=run_id).first()
    if run is None or run.is_finished:
        return
    run.errors = [*run.errors, {"url": run.source.url, "error": error}][-_MAX_ERRORS_KEPT:]
    _finish(run, CrawlRun.Status.FAILED)


def crawl_run_execute(
    *,
    run_id: int,
    on_document: DocumentCallback,
    progress: Callable[[CrawlRun], None] | None = None,
) -> CrawlRun:
    """Crawl the run's source. Idempotent: a finished run is returned as it is."""
    run = CrawlRun.objects.select_related("source__author").get(pk=run_id)
    if run.is_finished:
        return run
    source = run.source
    if not _try_lock_source(source.pk):
        run.errors = [{"url": source.url, "error": "Another crawl of this source is running; try again later."}]
        return _finish(run, CrawlRun.Status.FAILED)
    try:
        if run.attempts >= MAX_ATTEMPTS:
            run.errors = [*run.errors, {"url": source.url, "error": _gave_up(run.attempts)}][-_MAX_ERRORS_KEPT:]
            return _finish(run, CrawlRun.Status.FAILED)
        return _crawl(run, source, on_document, progress)
    finally:
        with suppress(*DATABASE_DOWN_ERRORS):  # a connection that dropped took its session lock with it
            _unlock_source(source.pk)


def _gave_up(attempts: int) -> str:
    return (
        f"The crawl was started {attempts} times and its worker stopped each time before it finished "
        "(killed, out of memory, or restarted); it was given up. Crawl again after fixing the cause."
    )


def known_pages(source: Source) -> dict[str, KnownPage]:
    """What the source's stored documents tell a re-crawl: validators, listed dates, a site page's links."""
    known = {}
    rows = Document.objects.filter(source=source, gone_at__isnull=True).values_list(
        "url", "http_etag", "http_last_modified", "listed_at", "metadata__links"
    )
    for url, etag, last_modified, listed_at, links in rows.iterator(chunk_size=2000):
        known[url] = KnownPage(etag, last_modified, listed_at, tuple(links) if isinstance(links, list) else ())
    return known


def _start(run: CrawlRun) -> None:
    """Begin an attempt: counts start over, so a redelivered task never counts a page twice."""
    run.attempts += 1
    redelivered = run.attempts > 1
    run.status, run.finished_at = CrawlRun.Status.RUNNING, None
    run.started_at = run.started_at if redelivered and run.started_at else timezone.now()
    run.pages_fetched = run.pages_failed = run.pages_skipped = run.pages_not_modified = 0
    run.documents_new = run.documents_changed = run.documents_unchanged = 0
    run.progress_done = run.progress_total = 0
    run.skipped = []
    note = f"Attempt {run.attempts}: the previous one stopped with its worker or the database; the counts start over."
    run.errors = [{"url": run.source.url, "error": note}] if redelivered else []
    run.save()
    Source.objects.filter(pk=run.source_id).update(last_crawl_status=Source.CrawlStatus.RUNNING)


def _crawl(
    run: CrawlRun, source: Source, on_document: DocumentCallback, progress: Callable[[CrawlRun], None] | None
) -> CrawlRun:
    _start(run)
    try:
        credentials = credentials_open(source.credentials)
    except TwinsiteError as exc:
        run.errors = [*run.errors, {"url": source.url, "error": str(exc)}]
        return _finish(run, CrawlRun.Status.FAILED)
    spec = SourceSpec(
        url=source.url,
        kind=source.kind,
        options=source.options,
        author_name=source.author.name,
        known=known_pages(source),
        credentials=credentials,
    )
    attribution = Attribution(source)
    # Whatever a crawler or a library says about a URL, its token or password is never recorded.
    secrets = [credentials, userinfo_parts(credentials)[1]] if credentials else []
    seen: set[str] = set()
    entry_failed = False
    last_save = time.monotonic()

    def record_progress(done: int, total: int | None) -> None:
        run.progress_done, run.progress_total = done, total or 0

    def failed(url: str, error: str) -> None:
        run.pages_failed += 1
        entry = {"url": secrets_redact(url, secrets), "error": secrets_redact(error, secrets)}
        run.errors = [*run.errors, entry][-_MAX_ERRORS_KEPT:]

    def skipped(url: str, reason: str) -> None:
        run.pages_skipped += 1
        run.skipped = [*run.skipped, {"url": url, "reason": reason}][-_MAX_ERRORS_KEPT:]

    def stored(document: Document, outcome: str) -> None:
        if outcome == "unchanged" and run.attempts > 1 and document.updated_at >= run.started_at:
            outcome = "new" if document.created_at >= run.started_at else "changed"  # an earlier attempt's work
        if outcome == "unchanged":
            run.documents_unchanged += 1
            if document.status == document.Status.PENDING:  # its processing never finished
                on_document(document.pk)
        else:
            run.documents_new += outcome == "new"
            run.documents_changed += outcome == "changed"
            on_document(document.pk)

    crawler = crawler_for(source.kind)
    try:
        for item in crawler.crawl(spec, progress=record_progress):
            item.url = url_redact(item.url)  # a document's URL is shown everywhere: never with a token in it
            if isinstance(item, CrawlFailure):
                failed(item.url, item.error)
                seen.add(item.url)  # a page that failed now is not thereby gone
                entry_failed |= item.url == spec.url
                if item.gone:
                    documents_mark_gone(source=source, urls={item.url})
            elif isinstance(item, CrawlSkipped):
                skipped(item.url, item.reason)
            elif isinstance(item, CrawlUnchanged):
                document = Document.objects.filter(source=source, url=item.url).first()
                if document is None:  # the crawler's knowledge was stale: nothing to count as unchanged
                    continue
                seen.add(item.url)
                run.pages_not_modified += 1
                if document.gone_at is not None:
                    Document.objects.filter(pk=document.pk).update(gone_at=None)
                stored(document, "unchanged")
            elif isinstance(item, CrawledDocument):
                run.pages_fetched += 1
                seen.add(item.url)
                try:
                    author = attribution.author_for(item.author_name)
                    with transaction.atomic():
                        document, outcome = document_upsert(source=source, crawled=item, author=author)
                except AuthorNotAllowed as exc:
                    skipped(item.url, f"Not stored: {exc}.")
                    continue
                except TwinsiteError as exc:
                    failed(item.url, str(exc))
                    continue
                stored(document, outcome)
            if time.monotonic() - last_save > _SAVE_EVERY_S:
                run.save()
                last_save = time.monotonic()
            if progress is not None:
                progress(run)
    except TwinsiteError as exc:  # the source as a whole cannot be crawled: a clean, recorded failure
        failed(source.url, str(exc))
        return _finish(run, CrawlRun.Status.FAILED)
    except DATABASE_DOWN_ERRORS:
        raise  # nothing can be recorded while it is away; the run is attempted again once it is back
    except Exception as exc:  # a bug or an outage: recorded on the run, then raised for the worker's log
        failed(source.url, f"The crawl stopped: {exc.__class__.__name__}: {exc}"[:1000])
        _finish(run, CrawlRun.Status.FAILED)
        raise

    succeeded = run.pages_fetched + run.pages_not_modified
    if succeeded == 0 and run.pages_failed:
        status = CrawlRun.Status.FAILED
    elif run.pages_failed:
        status = CrawlRun.Status.PARTIAL
    else:
        status = CrawlRun.Status.SUCCEEDED
    if crawler.lists_everything and status != CrawlRun.Status.FAILED and not entry_failed:
        documents_mark_gone(source=source, keep_urls=seen)
    return _finish(run, status)
