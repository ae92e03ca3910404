"""Processing tasks, on the embed queue: chunk a document, then embed what needs it."""

from celery import shared_task
from django.db import transaction

from apps.documents.services import (
    chunk_author_indexes_sync,
    chunks_embed_pending,
    document_process,
    document_process_failed,
)
from workers.base import PIPELINE_TASK_OPTIONS, PipelineTask


class ProcessTask(PipelineTask):
    def record_failure(self, object_id: int, error: str) -> None:
        document_process_failed(document_id=object_id, error=error)


@shared_task(base=ProcessTask, soft_time_limit=600, time_limit=660, **PIPELINE_TASK_OPTIONS)
def process_document(document_id: int) -> dict:
    outcome = document_process(document_id=document_id)
    if outcome.chunks_changed:
        transaction.on_commit(lambda: embed_chunks.delay())
    return {"document": document_id, "status": outcome.status, "chunks_changed": outcome.chunks_changed}


@shared_task(soft_time_limit=1800, time_limit=1900, **PIPELINE_TASK_OPTIONS)
def embed_chunks() -> int:
    """Embed every chunk still waiting. Several may run at once: each locks its own batch."""
    done = chunks_embed_pending()
    if done:
        sync_author_indexes.delay()
    return done


@shared_task(soft_time_limit=1800, time_limit=1900, **PIPELINE_TASK_OPTIONS)
def sync_author_indexes() -> dict:
    """Give every author with many chunks their own HNSW index (built concurrently: writes go on)."""
    return chunk_author_indexes_sync()
