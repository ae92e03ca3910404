"""The periodic operations check (beat, every NOTICE_CHECK_INTERVAL_S): notices for staff."""

from celery import shared_task

from apps.rag.health import operations_check


@shared_task(soft_time_limit=120, time_limit=150)
def notices_check() -> dict[str, int]:
    return operations_check()
