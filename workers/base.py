"""What every pipeline task shares: late acks (the work is idempotent), retries on transient errors.

A task's process killed under it (out of memory, SIGKILL) is a lost worker. A late-acked task is
delivered again (reject_on_worker_lost) and its run picks up where it stopped. One acked early (training:
no second attempt) is recorded failed by the worker's main process, which saw its child die: the task's
own on_failure never runs then, and the run would show "running" forever.

A task whose process dies under it every time (a document that runs the worker out of memory) would be
delivered again for ever: each delivery of a task (its id and retry number) is counted in the cache, and
past MAX_DELIVERIES it is not run again but recorded failed with the reason. A crawl counts its attempts on
its run instead (apps.sources.crawling), which also starts its counts over.
"""

import logging

from billiard.exceptions import WorkerLostError
from celery import Task
from celery.signals import task_failure
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

# Worth retrying: the database or broker blinked. Anything else is a bug or bad input, recorded once.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

PIPELINE_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


MAX_DELIVERIES = 3


class PipelineTask(Task):
    """Records failure on the row the task works on, through ``record_failure(id, error)``."""

    abstract = True
    max_deliveries: int | None = MAX_DELIVERIES  # None: the task counts its own attempts

    def __call__(self, *args, **kwargs):
        if self.max_deliveries is not None and not self.request.called_directly:
            deliveries = _delivery_count(self.request.id, self.request.retries or 0)
            if deliveries > self.max_deliveries:
                object_id = _object_id(args, kwargs)
                if object_id is not None:
                    self.record_failure(
                        object_id,
                        f"Delivered {deliveries} times, and its worker process stopped each time before it "
                        "finished (out of memory?); it is not run again.",
                    )
                return None
        return super().__call__(*args, **kwargs)

    def record_failure(self, object_id: int, error: str) -> None:  # pragma: no cover - overridden
        pass

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        object_id = _object_id(args, kwargs)
        if object_id is not None:
            self.record_failure(object_id, f"{exc.__class__.__name__}: {exc}"[:1000])


@task_failure.connect
def _record_lost_worker(sender=None, exception=None, args=None, kwargs=None, **_) -> None:
    # Sent in the main process only for a lost worker (with late acks, only once it is not delivered again).
    if isinstance(sender, PipelineTask) and isinstance(exception, WorkerLostError):
        sender.on_failure(exception, None, args or (), kwargs or {}, None)


def _object_id(args, kwargs) -> int | None:
    return args[0] if args else next(iter((kwargs or {}).values()), None)


def _delivery_count(task_id: str, retries: int) -> int:
    """This delivery's number for the task's attempt (1 for the first), counted in the cache; 1 when the
    cache cannot be reached (the task runs: a lost count must not stop work)."""
    key = f"twinsite:deliveries:{task_id}:{retries}"
    try:
        cache.add(key, 0, timeout=2 * settings.CELERY_VISIBILITY_TIMEOUT_S)  # redeliveries come within it
        return cache.incr(key)
    except Exception:  # noqa: BLE001 - the cache's own errors vary by backend
        logger.warning("Could not count the deliveries of task %s; it runs.", task_id)
        return 1
