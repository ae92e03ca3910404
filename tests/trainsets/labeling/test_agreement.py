"""Cohen's kappa and percent agreement, without a database."""

import random

import pytest
from sklearn.metrics import cohen_kappa_score

from apps.trainsets.labeling.agreement import agreement_report, cohen_kappa, kappa_strength


def test_kappa_of_the_textbook_two_by_two_table():
    # 50 items: both yes 20, yes/no 5, no/yes 10, both no 15 -> observed 0.7, chance 0.5, kappa 0.4.
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)


@pytest.mark.parametrize("seed", range(5))
def test_kappa_matches_scikit_learn_on_random_verdicts(seed):
    rng = random.Random(seed)
    verdicts = ["chosen", "rejected", "tie", "both_bad"]
    first = [rng.choice(verdicts) for _ in range(60)]
    # Correlated with the first annotator, as real annotators are.
    second = [v if rng.random() < 0.6 else rng.choice(verdicts) for v in first]
    assert cohen_kappa(first, second) == pytest.approx(cohen_kappa_score(first, second))


def test_kappa_is_one_for_full_agreement_and_negative_below_chance():
    assert cohen_kappa(["chosen", "rejected", "tie"], ["chosen", "rejected", "tie"]) == pytest.approx(1.0)
    assert cohen_kappa(["chosen", "rejected"], ["rejected", "chosen"]) == pytest.approx(-1.0)


def test_kappa_is_undefined_when_both_gave_one_same_verdict_or_nothing():
    assert cohen_kappa(["chosen"] * 4, ["chosen"] * 4) is None
    assert cohen_kappa([], []) is None
    # Two different single verdicts: no chance agreement at all, and none observed.
    assert cohen_kappa(["chosen"] * 3, ["rejected"] * 3) == 0.0


def test_kappa_needs_one_label_per_item_from_each():
    with pytest.raises(ValueError, match="got 2 and 1"):
        cohen_kappa(["chosen", "tie"], ["chosen"])


def test_report_compares_each_pair_of_annotators_on_their_common_items_and_pools_the_rest():
    labels = {
        "cleo": {1: "chosen", 2: "chosen", 3: "rejected", 4: "tie"},
        "ana": {1: "chosen", 2: "rejected", 3: "rejected", 4: "tie", 5: "chosen"},
        "bo": {5: "chosen", 6: "rejected"},
        "dee": {7: "chosen"},  # shares nothing with anyone: no row
    }

    report = agreement_report(labels)

    rows = {(row.first, row.second): row for row in report.pairs}
    assert set(rows) == {("ana", "bo"), ("ana", "cleo")}
    ana_cleo = rows["ana", "cleo"]
    assert (ana_cleo.common, ana_cleo.agreed, ana_cleo.percent) == (4, 3, 75.0)
    assert ana_cleo.kappa == pytest.approx(cohen_kappa_score(["chosen", "rejected", "rejected", "tie"],
                                                             ["chosen", "chosen", "rejected", "tie"]))  # fmt: skip
    assert rows["ana", "bo"].common == 1 and rows["ana", "bo"].kappa is None
    assert (report.comparisons, report.agreed, report.percent) == (5, 4, 80.0)
    assert report.items_multiply_labeled == 5  # items 1-5; 6 and 7 have one label each


def test_report_without_overlap_has_no_percent():
    report = agreement_report({"ana": {1: "chosen"}, "bo": {2: "chosen"}})
    assert report.pairs == [] and report.percent is None and report.items_multiply_labeled == 0


@pytest.mark.parametrize(
    ("kappa", "words"),
    [(None, "undefined"), (-0.1, "poor"), (0.0, "slight"), (0.2, "slight"), (0.35, "fair"), (0.6, "moderate"),
     (0.64, "substantial"), (0.81, "almost perfect"), (1.0, "almost perfect")],
)  # fmt: skip
def test_kappa_strength_uses_landis_and_koch_bands(kappa, words):
    assert kappa_strength(kappa) == words
