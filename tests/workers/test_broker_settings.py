"""The broker never hands a running task to a second worker: its visibility timeout outlasts every task."""

from django.conf import settings

from twinsite.celery import app


def test_visibility_timeout_is_above_every_tasks_hard_time_limit():
    app.loader.import_default_modules()  # registers workers.* (CELERY_IMPORTS)
    limits = {
        name: task.time_limit or app.conf.task_time_limit
        for name, task in app.tasks.items()
        if name.startswith("workers.")
    }

    assert limits["workers.training.train_model"] == 12 * 3600 + 300  # the longest, today
    assert app.conf.broker_transport_options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT_S
    assert max(limits.values()) < settings.CELERY_VISIBILITY_TIMEOUT_S
