"""A label given on the labeling screen is what the next export holds: the whole human-in-the-loop path."""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.trainsets.factories import make_pair

pytestmark = pytest.mark.django_db


def exported(output: Path) -> dict[int, tuple[str, str]]:
    rows = []
    for name in ("preference_train.jsonl", "preference_test.jsonl"):
        rows += [json.loads(line) for line in (output / name).read_text(encoding="utf-8").splitlines()]
    return {row["pair_id"]: (row["chosen"][0]["content"], row["rejected"][0]["content"]) for row in rows}


def test_the_model_answer_edited_and_chosen_on_screen_is_exported_as_chosen(client, annotator, settings, tmp_path):
    settings.TRAINSETS_AUTO_ACCEPT = False
    pair = make_pair(chosen="Knead for ten minutes.", rejected="Knead the dough until it is smooth")
    other = make_pair()  # never labeled: stays out of the export
    client.force_login(annotator)

    page = client.get(reverse("labeling-pair", args=[pair.pk])).content.decode()
    chosen_first = re.search(r'name="chosen_shown_first" value="(true|false)"', page).group(1) == "true"
    model_side = "b" if chosen_first else "a"
    edit = "Knead the dough until it is smooth and springs back, about ten minutes."
    shown = [pair.chosen, edit] if chosen_first else [edit, pair.chosen]
    answers = {"answer_a": shown[0], "answer_b": shown[1]}
    response = client.post(
        reverse("labeling-pair", args=[pair.pk]),
        {"chosen_shown_first": str(chosen_first).lower(), "choice": model_side, **answers},
    )
    assert response.status_code == 302

    output = tmp_path / "preference"
    call_command("export_dataset", "--kind", "preference", "--output", str(output), stdout=StringIO())

    pairs = exported(output)
    assert pairs[pair.pk] == (edit, "Knead for ten minutes.")
    assert other.pk not in pairs
