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


@pytest.mark.parametrize("expression", ["0 3 * * *", "*/15 * * * *", "0 0 1,15 * 0", "5 4 * 1-6 7"])
def test_valid_expressions_pass(expression):
    cron_validate(expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 3 * *", "five fields"),
        ("61 * * * *", "minute"),
        ("0 24 * * *", "hour"),
        ("0 0 0 * *", "day of month"),
        ("*/0 * * * *", "step"),
        ("0 0 * * mon", "day of week"),
    ],
)
def test_invalid_expressions_name_the_problem(expression, message):
    with pytest.raises(ValueError, match=message):
        cron_validate(expression)
