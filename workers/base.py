"""What every pipeline task shares: late acks (the work is idempotent), retries on transient errors.

A task's process killed under it (out of memory, SIGKILL) is a lost worker. A late-acked task is
delivered again (reject_on_worker_lost) and its run picks up where it stopped. One acked early (training:
no second attempt) is recorded failed by the worker's main process, which saw its child die: the task's
own on_failure never runs then, and the run would show "running" forever.
"""

from billiard.exceptions import WorkerLostError
from celery import Task
from celery.signals import task_failure
from django.db import InterfaceError, OperationalError

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


class PipelineTask(Task):
    """Records failure on the row the task works on, through ``record_failure(id, error)``."""

    abstract = True

    def record_failure(self, object_id: int, error: str) -> None:  # pragma: no cover - overridden
        pass

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        object_id = args[0] if args else next(iter(kwargs.values()), None)
        if object_id is not None:
            self.record_failure(object_id, f"{exc.__class__.__name__}: {exc}"[:1000])


@task_failure.connect
def _record_lost_worker(sender=None, exception=None, args=None, kwargs=None, **_) -> None:
    # Sent in the main process only for a lost worker (with late acks, only once it is not delivered again).
    if isinstance(sender, PipelineTask) and isinstance(exception, WorkerLostError):
        sender.on_failure(exception, None, args or (), kwargs or {}, None)
