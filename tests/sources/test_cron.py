import pytest

from apps.sources.cron import cron_fields, cron_validate


def test_cron_fields_map_to_crontab_schedule_names():
    assert cron_fields("15 3 * * 1-5") == {
        "minute": "15",
        "hour": "3",
        "day_of_month": "*",
        "month_of_year": "*",
        "day_of_week": "1-5",
    }


@pytest.mark.parametrize(
    "expression", ["0 3 * * *", "*/15 * * * *", "0 0 1,15 * 0", "5 4 * 1-6 0", "0 0 * * mon", "30 6 1 jan *"]
)
def test_expressions_celery_accepts_pass_names_included(expression):
    cron_validate(expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 3 * *", "five fields"),
        ("61 * * * *", "cron minute"),
        ("0 24 * * *", "cron hour"),
        ("0 0 0 * *", "cron day of month"),
        ("*/0 * * * *", "cron minute"),
        ("0 3 * * 7", 'cron day of week "7"'),  # beat would never run it: Celery's weekdays are 0-6
        ("0 3 * * 1-7", "cron day of week"),
        ("0 0 31 2 *", "never occurs"),
        ("0 0 * * someday", "cron day of week"),
    ],
)
def test_expressions_celery_rejects_name_the_field(expression, message):
    with pytest.raises(ValueError, match=message):
        cron_validate(expression)
