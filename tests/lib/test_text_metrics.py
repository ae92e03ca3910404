"""The evaluation's pure metrics and the judge-reply parser, on inputs whose answers are known. No model, no DB."""

import math

import pytest
from scipy.spatial.distance import jensenshannon

from lib.metrics.text import (
    FUNCTION_WORDS,
    centroid_similarity,
    function_word_distance,
    function_word_distribution,
    jensen_shannon_distance,
    mean,
    rouge_l_f1,
)
from training.judge import Verdict, parse_verdict


def test_rouge_l_is_one_for_the_same_words_whatever_the_case_and_punctuation():
    assert rouge_l_f1("Short version: pg_dump every night.", "short version pg_dump every night") == 1.0


def test_rouge_l_is_zero_for_disjoint_or_empty_texts():
    assert rouge_l_f1("queues absorb spikes", "bananas are yellow") == 0.0
    assert rouge_l_f1("", "anything at all") == 0.0
    assert rouge_l_f1("anything at all", "...") == 0.0


def test_rouge_l_counts_the_longest_common_subsequence_in_order():
    # "the cat on the mat": 5 of 6 words on each side.
    assert rouge_l_f1("the cat sat on the mat", "the cat is on the mat") == pytest.approx(5 / 6)
    # Reversed order keeps a single word in sequence: P = R = 1/4.
    assert rouge_l_f1("one two three four", "four three two one") == pytest.approx(0.25)
    # A short candidate inside a long reference: precision 1, recall 2/6.
    assert rouge_l_f1("restore drill", "a restore drill every single month") == pytest.approx(
        2 * (1 * 2 / 6) / (1 + 2 / 6)
    )


def test_function_word_distribution_counts_only_function_words():
    distribution = function_word_distribution(["The queue and THE backlog.", "Queues of the world"])
    by_word = dict(zip(FUNCTION_WORDS, distribution, strict=True))

    assert sum(distribution) == pytest.approx(1.0)
    assert by_word["the"] == pytest.approx(3 / 5)
    assert by_word["and"] == by_word["of"] == pytest.approx(1 / 5)
    assert "queue" not in by_word


def test_function_word_distance_is_zero_for_the_same_habits_and_one_for_disjoint_ones():
    assert function_word_distance(["the cat and the dog"], ["The bird and the fish."]) == 0.0
    assert function_word_distance(["the of the"], ["and but or"]) == pytest.approx(1.0)
    assert function_word_distance(["pg_dump nightly"], ["WAL archiving"]) == 0.0  # neither uses any
    assert function_word_distance(["pg_dump nightly"], ["and then"]) == 1.0


def test_jensen_shannon_distance_matches_the_worked_example_and_scipy():
    p, q = [1.0, 0.0], [0.5, 0.5]
    # m = (0.75, 0.25); JSD = 1/2 log2(4/3) + 1/2 (1/2 log2(2/3) + 1/2 log2 2)
    divergence = 0.5 * math.log2(4 / 3) + 0.5 * (0.5 * math.log2(2 / 3) + 0.5)
    assert jensen_shannon_distance(p, q) == pytest.approx(math.sqrt(divergence))

    a = function_word_distribution(["I think that we should do it, but not in the way you said."])
    b = function_word_distribution(["The answer is in the manual, and the manual is on the shelf."])
    assert jensen_shannon_distance(a, b) == pytest.approx(float(jensenshannon(a, b, base=2)))


def test_jensen_shannon_distance_refuses_distributions_of_different_lengths():
    with pytest.raises(ValueError, match="length"):
        jensen_shannon_distance([1.0], [0.5, 0.5])


def test_centroid_similarity_compares_the_means_not_the_pairs():
    assert centroid_similarity([[1, 0], [0, 1]], [[1, 1]]) == pytest.approx(1.0)
    assert centroid_similarity([[1, 0]], [[0, 2], [0, 3]]) == pytest.approx(0.0)
    assert centroid_similarity([[1, 2]], [[-1, -2]]) == pytest.approx(-1.0)
    assert centroid_similarity([[1, 0], [-1, 0]], [[1, 0]]) == 0.0  # a zero centroid is like nothing


def test_centroid_similarity_needs_vectors_on_both_sides():
    with pytest.raises(ValueError, match="at least one vector"):
        centroid_similarity([], [[1.0]])


def test_mean_skips_missing_values():
    assert mean([1, None, 3]) == 2
    assert mean([None, None]) is None


@pytest.mark.parametrize(
    ("reply", "scores"),
    [
        ('{"accuracy": 3, "style": 1}', (3, 1)),
        ('Here you go:\n```json\n{"Accuracy": "2", "Style": 3.0}\n```', (2, 3)),
        ('{"accuracy": 2, "style": 3}\n\nThe answer is', (2, 3)),
        ("Accuracy: 3\nStyle: 2", (3, 2)),
        ("Accuracy (1-3): 2, Style (1-3): 1", (2, 1)),
        ("accuracy 2/3, style 3/3", (2, 3)),
        ("I would give it a 3 for accuracy and a 1 for style.", (3, 1)),
        ('{"accuracy": 1, "style": 2', (1, 2)),  # cut off before the closing brace
    ],
)
def test_parse_verdict_reads_the_scores_however_the_judge_writes_them(reply, scores):
    verdict = parse_verdict(reply)

    assert (verdict.accuracy, verdict.style) == scores
    assert verdict.parsed and verdict.reply == reply


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "The answer is good and reads like the author.",
        '{"accuracy": 5, "style": 7}',  # off the scale, and no other digit to fall back on
        '{"accuracy": 1, "style": "S", "type": "json"',  # half a verdict is no verdict
        "Scores from 1 to 3: see above.",
    ],
)
def test_parse_verdict_marks_replies_without_two_scores_unparseable(reply):
    assert parse_verdict(reply) == Verdict(None, None, reply)
