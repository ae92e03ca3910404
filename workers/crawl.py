"""Crawl tasks, on the crawl queue: run a CrawlRun, queue processing of what changed."""

from celery import shared_task
from django.db import transaction

from apps.sources.crawling import crawl_run_execute, crawl_run_fail
from apps.sources.models import Source
from apps.sources.services import crawl_run_enqueue
from workers.base import PIPELINE_TASK_OPTIONS, PipelineTask


class CrawlTask(PipelineTask):
    max_deliveries = None  # the run counts its attempts, gives up after MAX_ATTEMPTS and says so

    def record_failure(self, object_id: int, error: str) -> None:
        crawl_run_fail(run_id=object_id, error=error)


def _queue_processing(document_id: int) -> None:
    from workers.process import process_document

    transaction.on_commit(lambda: process_document.delay(document_id))


@shared_task(base=CrawlTask, soft_time_limit=3300, time_limit=3600, **PIPELINE_TASK_OPTIONS)
def crawl_source(crawl_run_id: int) -> dict:
    run = crawl_run_execute(run_id=crawl_run_id, on_document=_queue_processing)
    return {"crawl_run": run.pk, "status": run.status, **run.counts()}


@shared_task(acks_late=True)
def crawl_source_scheduled(source_id: int) -> dict | None:
    """Beat's entry point: a new run for an active source, queued like any other crawl."""
    source = Source.objects.filter(pk=source_id, active=True).first()
    if source is None:
        return None
    run = crawl_run_enqueue(source=source)
    return {"crawl_run": run.pk}
