"""Crawl sources, on the workers (default) or in this process (--sync), with progress bars.

A database that goes away during a --sync crawl is waited for (--wait-for-database seconds), and the
crawl then resumes: its run starts a new attempt, and pages already stored count once. If it stays
away, or goes away at another step, the command stops with that reason; what was stored stays.
"""

import json
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.core.database import DATABASE_DOWN_ERRORS, database_wait
from apps.documents.models import Document
from apps.documents.selectors import chunks_needing_embedding
from apps.documents.services import chunk_author_indexes_sync, chunks_embed_pending, document_process
from apps.sources.crawling import crawl_run_execute
from apps.sources.models import CrawlRun, Source
from apps.sources.selectors import sources_active
from apps.sources.services import crawl_run_create, crawl_run_enqueue

_POLL_S = 0.5


MAX_RESUMES = 3  # a --sync crawl resumes after the database came back at most this many times


class Command(BaseCommand):
    help = "Crawl one source or all active ones; new and changed documents are chunked and embedded."

    def add_arguments(self, parser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--source", type=int, help="Id of the source to crawl.")
        which.add_argument("--all", action="store_true", help="Crawl every active source.")
        parser.add_argument("--sync", action="store_true", help="Crawl, chunk and embed in this process.")
        parser.add_argument("--json", action="store_true", help="Print each run's counts as JSON.")
        parser.add_argument("--no-wait", action="store_true", help="Queue the crawls and return.")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait for the workers.")
        parser.add_argument(
            "--wait-for-database",
            type=float,
            default=60,
            metavar="S",
            help="With --sync: how long to wait for a database that goes away mid-crawl, then resume (default 60).",
        )

    def handle(self, *args, **options) -> None:
        try:
            self._handle(options)
        except DATABASE_DOWN_ERRORS:
            raise CommandError(
                "The database stopped answering; what was stored before it did stays. Run the command again once "
                "it is back: unchanged pages are not stored twice."
            ) from None

    def _handle(self, options: dict) -> None:
        source_id = options["source"]
        sources = list(sources_active()) if options["all"] else list(Source.objects.filter(pk=source_id))
        if not sources:
            raise CommandError(f"No source with id {source_id}." if source_id else "No active source to crawl.")
        if options["sync"]:
            runs = [self._crawl_here(source, wait_s=options["wait_for_database"]) for source in sources]
        else:
            runs = [crawl_run_enqueue(source=source) for source in sources]
            if options["no_wait"]:
                self.stdout.write(" ".join(str(run.pk) for run in runs))
                return
            runs = self._follow(runs, timeout=options["timeout"])
        self._report(runs, as_json=options["json"])

    def _crawl_here(self, source: Source, *, wait_s: float) -> CrawlRun:
        run = crawl_run_create(source=source)
        changed: list[int] = []
        with tqdm(desc=f"crawl #{source.pk}", unit="page", disable=None) as bar:

            def show(run: CrawlRun) -> None:
                bar.total = run.progress_total or None
                bar.n = run.progress_done or run.pages_fetched + run.pages_failed
                bar.set_postfix(new=run.documents_new, changed=run.documents_changed, failed=run.pages_failed)

            for resumes in range(MAX_RESUMES + 1):
                try:
                    run = crawl_run_execute(run_id=run.pk, on_document=changed.append, progress=show)
                    break
                except DATABASE_DOWN_ERRORS as exc:
                    if resumes == MAX_RESUMES:  # answering, yet failing each time (its disk full, say)
                        raise CommandError(
                            f"Crawl #{run.pk} met a database error {MAX_RESUMES + 1} times ({exc.__class__.__name__}:"
                            f" {str(exc).strip()[:300]}); the documents stored before stay."
                        ) from None
                    self._wait_for_database(run, wait_s=wait_s)
        # A resumed crawl hands over again what its earlier attempt stored: each document is processed once.
        for document_id in tqdm(dict.fromkeys(changed), desc="chunk", unit="doc", disable=None):
            document_process(document_id=document_id)
        with tqdm(total=chunks_needing_embedding().count(), desc="embed", unit="chunk", disable=None) as bar:
            chunks_embed_pending(progress=bar.update)
        chunk_author_indexes_sync()
        return run

    def _wait_for_database(self, run: CrawlRun, *, wait_s: float) -> None:
        self.stderr.write(f"The database stopped answering during crawl #{run.pk}; waiting up to {wait_s:g} s.")
        if not database_wait(timeout_s=wait_s):
            raise CommandError(
                f"The database stopped answering during crawl #{run.pk} and was still away after {wait_s:g} s; "
                "the documents stored before stay. Crawl again once it is back: unchanged pages are not stored twice."
            )
        self.stderr.write(f"The database is back; crawl #{run.pk} resumes.")

    def _follow(self, runs: list[CrawlRun], *, timeout: float) -> list[CrawlRun]:
        """Wait for the workers: the crawls, then the chunking and embedding of what they found."""
        deadline = time.monotonic() + timeout
        ids = [run.pk for run in runs]
        with tqdm(desc="crawl", unit="page", disable=None) as bar:
            while True:
                runs = list(CrawlRun.objects.filter(pk__in=ids))
                bar.total = sum(run.progress_total for run in runs) or None
                bar.n = sum(run.progress_done or run.pages_fetched + run.pages_failed for run in runs)
                bar.refresh()
                if all(run.is_finished for run in runs):
                    break
                self._check_deadline(deadline)
                time.sleep(_POLL_S)
        source_ids = [run.source_id for run in runs]
        pending = Document.objects.filter(source_id__in=source_ids, status=Document.Status.PENDING)
        waiting = chunks_needing_embedding().filter(document__source_id__in=source_ids)
        with tqdm(desc="chunk and embed", unit="item", disable=None) as bar:
            while (left := pending.count() + waiting.count()) > 0:
                bar.total = max(bar.total or 0, left + bar.n)
                bar.n = bar.total - left
                bar.refresh()
                self._check_deadline(deadline)
                time.sleep(_POLL_S)
        return runs

    @staticmethod
    def _check_deadline(deadline: float) -> None:
        if time.monotonic() > deadline:
            raise CommandError("Timed out waiting for the workers; the crawl goes on, see the admin.")

    def _report(self, runs: list[CrawlRun], *, as_json: bool) -> None:
        rows = [
            {
                "crawl_run": run.pk,
                "source": run.source_id,
                "status": run.status,
                **run.counts(),
                "errors": run.errors,
                "skipped_pages": run.skipped,
            }
            for run in runs
        ]
        if as_json:
            self.stdout.write(json.dumps(rows[0] if len(rows) == 1 else rows))
        else:
            for row in rows:
                self.stdout.write(
                    f"Crawl #{row['crawl_run']} of source #{row['source']}: {row['status']} — fetched {row['fetched']},"
                    f" new {row['new']}, changed {row['changed']}, unchanged {row['unchanged']} (not modified"
                    f" {row['not_modified']}), failed {row['failed']}, skipped {row['skipped']}"
                )
                for error in row["errors"][:20]:
                    self.stdout.write(f"  {error['url']}: {error['error']}")
                for skip in row["skipped_pages"][:20]:
                    self.stdout.write(f"  skipped {skip['url']}: {skip['reason']}")
        if any(run.status == CrawlRun.Status.FAILED for run in runs):
            raise CommandError("A crawl failed; its errors are listed above and in the admin.")
