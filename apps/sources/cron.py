"""Five-field cron expressions, as django-celery-beat's CrontabSchedule stores them."""

_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
_RANGES = {"minute": (0, 59), "hour": (0, 23), "day_of_month": (1, 31), "month_of_year": (1, 12), "day_of_week": (0, 7)}


def cron_fields(expression: str) -> dict[str, str]:
    """Split "m h dom mon dow" into the CrontabSchedule field names."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(
            f'"{expression}" is not a cron expression: it needs five fields, "minute hour day month weekday"'
        )
    return dict(zip(_FIELDS, parts, strict=True))


def cron_validate(expression: str) -> None:
    """Raise ValueError naming the field that is out of range or malformed."""
    for name, value in cron_fields(expression).items():
        low, high = _RANGES[name]
        for item in value.split(","):
            base, _, step = item.partition("/")
            if step and not (step.isdigit() and int(step) > 0):
                raise ValueError(f'cron {name.replace("_", " ")} "{value}": step "{step}" is not a positive number')
            if base == "*":
                continue
            for bound in base.split("-", 1):
                if not bound.isdigit() or not low <= int(bound) <= high:
                    raise ValueError(f'cron {name.replace("_", " ")} "{value}" must use numbers {low}-{high}')
