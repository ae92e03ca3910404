"""Five-field cron expressions, checked by the parser beat itself runs them with.

django-celery-beat stores the five fields as text and builds a ``TzAwareCrontab`` from them on each
tick; when Celery's parser rejects a field (``7`` as a weekday, the 31st of February), beat logs the
error and the task silently never runs. So the expression is validated by building that very object.
"""

from django_celery_beat.tzcrontab import TzAwareCrontab

_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def cron_fields(expression: str) -> dict[str, str]:
    """Split "m h dom mon dow" into the CrontabSchedule field names."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(
            f'"{expression}" is not a cron expression: it needs five fields, "minute hour day month weekday"'
        )
    return dict(zip(_FIELDS, parts, strict=True))


def cron_validate(expression: str) -> None:
    """Raise ValueError naming the field Celery rejects. Names (``mon``, ``jan``) are accepted as Celery does."""
    fields = cron_fields(expression)
    for name, value in fields.items():
        try:  # one field at a time first, so the message can name it
            TzAwareCrontab(**{name: value})
        except ValueError as exc:
            raise ValueError(f'cron {name.replace("_", " ")} "{value}": {_reason(exc)}') from None
    try:
        TzAwareCrontab(**fields)
    except ValueError as exc:  # e.g. day 31 in a month that never has one
        raise ValueError(f'cron "{expression}": {_reason(exc)}') from None


def _reason(exc: ValueError) -> str:
    return str(exc).rstrip(".") or "not accepted by Celery"
