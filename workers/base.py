"""What every pipeline task shares: late acks (the work is idempotent), retries on transient errors."""

from celery import Task
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
