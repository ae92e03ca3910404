"""The Celery app: configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import task_failure, task_retry

from lib.telemetry.metrics import TASK_FAILURES, TASK_RETRIES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twinsite.settings")

app = Celery("twinsite")
app.config_from_object("django.conf:settings", namespace="CELERY")


@task_failure.connect
def _count_task_failure(sender=None, **kwargs) -> None:
    TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()


@task_retry.connect
def _count_task_retry(sender=None, **kwargs) -> None:
    TASK_RETRIES.labels(getattr(sender, "name", "unknown")).inc()
