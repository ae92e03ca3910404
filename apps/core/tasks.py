"""Sending Celery tasks by name: apps never import workers/ (the layers in ARCHITECTURE.md).

Tasks are another interface to the services, so a service that queues work names its task instead of
importing it; the queue comes from CELERY_TASK_ROUTES, the one place that says which work runs where.
"""

from typing import Any

from celery import current_app
from django.db import transaction


def task_send(name: str, *args: Any, countdown: float | None = None) -> None:
    """Send task ``name`` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: _send(name, args, countdown))


def _send(name: str, args: tuple, countdown: float | None) -> None:
    app = current_app
    if app.conf.task_always_eager:  # unit tests: run it in this process, as .delay() would
        app.loader.import_default_modules()
        app.tasks[name].apply(args=args, throw=app.conf.task_eager_propagates)
        return
    app.send_task(name, args=list(args), countdown=countdown)
