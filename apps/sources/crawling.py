"""Running one crawl: the crawler's items become documents, and the run records what happened.

Each new or changed document is handed to ``on_document`` (the worker queues
its processing; ``--sync`` processes it in-process). A crawl of a source holds
a PostgreSQL advisory lock, so two runs of one source never interleave.
"""

import time
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from apps.documents.services import document_upsert, documents_mark_gone
from apps.sources.crawlers import crawler_for
from apps.sources.crawlers.base import CrawledDocument, CrawlFailure, SourceSpec
from apps.sources.models import CrawlRun, Source
from lib.errors import TwinsiteError

_SAVE_EVERY_S = 1.0  # how often live counts reach the admin
_LOCK_NAMESPACE = 7301  # advisory-lock key space for crawls: (namespace, source id)
_MAX_ERRORS_KEPT = 500

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
    return run


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
        return _crawl(run, source, on_document, progress)
    finally:
        _unlock_source(source.pk)


def _crawl(
    run: CrawlRun, source: Source, on_document: DocumentCallback, progress: Callable[[CrawlRun], None] | None
) -> CrawlRun:
    run.status, run.started_at, run.finished_at = CrawlRun.Status.RUNNING, timezone.now(), None
    run.save()
    Source.objects.filter(pk=source.pk).update(last_crawl_status=Source.CrawlStatus.RUNNING)
    spec = SourceSpec(url=source.url, kind=source.kind, options=source.options, author_name=source.author.name)
    seen: set[str] = set()
    entry_failed = False
    last_save = time.monotonic()

    def record_progress(done: int, total: int | None) -> None:
        run.progress_done, run.progress_total = done, total or 0

    def failed(url: str, error: str) -> None:
        run.pages_failed += 1
        run.errors = [*run.errors, {"url": url, "error": error}][-_MAX_ERRORS_KEPT:]

    crawler = crawler_for(source.kind)
    try:
        for item in crawler.crawl(spec, progress=record_progress):
            if isinstance(item, CrawlFailure):
                failed(item.url, item.error)
                seen.add(item.url)  # a page that failed now is not thereby gone
                entry_failed |= item.url == spec.url
                if item.gone:
                    documents_mark_gone(source=source, urls={item.url})
            elif isinstance(item, CrawledDocument):
                run.pages_fetched += 1
                seen.add(item.url)
                try:
                    with transaction.atomic():
                        document, outcome = document_upsert(source=source, crawled=item)
                except TwinsiteError as exc:
                    failed(item.url, str(exc))
                    continue
                if outcome == "unchanged":
                    run.documents_unchanged += 1
                    if document.status == document.Status.PENDING:  # its processing never finished
                        on_document(document.pk)
                else:
                    run.documents_new += outcome == "new"
                    run.documents_changed += outcome == "changed"
                    on_document(document.pk)
            if time.monotonic() - last_save > _SAVE_EVERY_S:
                run.save()
                last_save = time.monotonic()
            if progress is not None:
                progress(run)
    except TwinsiteError as exc:  # the source as a whole cannot be crawled: a clean, recorded failure
        failed(source.url, str(exc))
        return _finish(run, CrawlRun.Status.FAILED)
    except Exception as exc:  # a bug or an outage: recorded on the run, then raised for the worker's log
        failed(source.url, f"The crawl stopped: {exc.__class__.__name__}: {exc}"[:1000])
        _finish(run, CrawlRun.Status.FAILED)
        raise

    if run.pages_fetched == 0 and run.pages_failed:
        status = CrawlRun.Status.FAILED
    elif run.pages_failed:
        status = CrawlRun.Status.PARTIAL
    else:
        status = CrawlRun.Status.SUCCEEDED
    if crawler.lists_everything and status != CrawlRun.Status.FAILED and not entry_failed:
        documents_mark_gone(source=source, keep_urls=seen)
    return _finish(run, status)
