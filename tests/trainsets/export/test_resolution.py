"""Labels decide what a preference pair exports as: majority, swap, edits, and what stays out."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.trainsets.export.resolution import Outcome, Vote, pair_resolve

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def resolve(*prefers: str, edits: dict[int, tuple[str, int]] | None = None):
    edits = edits or {}
    votes = [
        Vote(p, edits.get(i, ("", 0))[0], T0 + timedelta(minutes=edits.get(i, ("", i))[1]))
        for i, p in enumerate(prefers)
    ]
    return pair_resolve(chosen="AUTHOR", rejected="MODEL", votes=votes)


@pytest.mark.parametrize(
    ("prefers", "outcome", "chosen"),
    [
        (["chosen"], Outcome.AS_IS, "AUTHOR"),
        (["rejected"], Outcome.SWAPPED, "MODEL"),
        (["rejected", "rejected", "chosen"], Outcome.SWAPPED, "MODEL"),
        (["chosen", "skip", "skip"], Outcome.AS_IS, "AUTHOR"),
        (["tie"], Outcome.TIE, ""),
        (["both_bad", "both_bad", "chosen"], Outcome.BOTH_BAD, ""),
        (["chosen", "rejected"], Outcome.NO_MAJORITY, ""),
        (["chosen", "rejected", "tie"], Outcome.NO_MAJORITY, ""),
        (["skip"], Outcome.UNLABELED, "AUTHOR"),
        ([], Outcome.UNLABELED, "AUTHOR"),
    ],
)
def test_majority_of_counted_votes_decides(prefers, outcome, chosen):
    resolution = resolve(*prefers)
    assert resolution.outcome == outcome
    assert resolution.chosen == chosen
    if outcome == Outcome.SWAPPED:
        assert resolution.rejected == "AUTHOR"


def test_latest_edit_of_the_winning_side_replaces_it():
    # votes 0 and 2 prefer rejected and edit it, vote 2 later; vote 1's edit is for the losing side.
    resolution = resolve(
        "rejected", "chosen", "rejected", edits={0: ("first edit", 1), 1: ("loser edit", 9), 2: ("second edit", 5)}
    )
    assert (resolution.outcome, resolution.chosen, resolution.rejected) == (Outcome.SWAPPED, "second edit", "AUTHOR")
    assert resolution.edited


def test_an_edit_that_changes_nothing_is_not_counted_as_one():
    resolution = resolve("chosen", edits={0: ("AUTHOR ", 1)})
    assert resolution.chosen == "AUTHOR" and not resolution.edited
