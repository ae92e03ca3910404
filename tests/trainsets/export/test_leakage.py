"""The leakage guard: exact Jaccard of word sets, so one-word edits of short prompts are caught, exactly."""

from fractions import Fraction
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.trainsets.export.leakage import (
    EXACT,
    LEAKAGE_THRESHOLD,
    NEAR_DUPLICATE,
    prompt_similarity,
    prompts_leaked,
)

# Distinct words, so a substitution removes exactly one word from the set.
VOCABULARY = [
    "how",
    "do",
    "you",
    "back",
    "up",
    "every",
    "postgres",
    "database",
    "when",
    "the",
    "team",
    "ships",
    "small",
    "changes",
    "to",
    "a",
    "shared",
    "cluster",
    "of",
    "machines",
    "that",
    "serve",
    "many",
    "busy",
    "customers",
    "across",
    "three",
    "regions",
    "without",
    "downtime",
    "or",
    "data",
    "loss",
    "during",
    "nightly",
    "maintenance",
    "windows",
    "planned",
    "by",
    "operators",
    "who",
    "rotate",
    "weekly",
]


def prompt_of(length: int) -> list[str]:
    return VOCABULARY[:length]


def edited(words: list[str], kind: str, position: str) -> list[str]:
    index = {"first": 0, "middle": len(words) // 2, "last": len(words) - 1}[position]
    if kind == "substitution":
        return [*words[:index], "kubernetes", *words[index + 1 :]]
    if kind == "insertion":
        return [*words[:index], "kubernetes", *words[index:]]
    return [*words[:index], *words[index + 1 :]]


EXPECTED = {  # the exact similarity of a one-word edit of an n-word prompt
    "substitution": lambda n: Fraction(n - 1, n + 1),
    "insertion": lambda n: Fraction(n, n + 1),
    "deletion": lambda n: Fraction(n - 1, n),
}


@pytest.mark.parametrize("length", [3, 4, 5, 6, 10, 15, 39])
@pytest.mark.parametrize("position", ["first", "middle", "last"])
@pytest.mark.parametrize("kind", ["substitution", "insertion", "deletion"])
def test_a_one_word_edit_has_the_exact_similarity_of_its_length(length, position, kind):
    original = prompt_of(length)
    copy = edited(original, kind, position)
    similarity = prompt_similarity(" ".join(original) + "?", " ".join(copy).upper())
    assert similarity == EXPECTED[kind](length)
    verdict = prompts_leaked(train=[" ".join(copy)], test=[" ".join(original)])
    assert verdict == [NEAR_DUPLICATE if similarity >= LEAKAGE_THRESHOLD else None]


@pytest.mark.parametrize("length", [5, 6, 10, 15, 39])
@pytest.mark.parametrize("kind", ["substitution", "insertion", "deletion"])
def test_every_one_word_edit_of_a_prompt_of_five_words_or_more_is_caught(length, kind):
    original = " ".join(prompt_of(length))
    copies = [" ".join(edited(prompt_of(length), kind, position)) for position in ("first", "middle", "last")]
    assert prompts_leaked(train=copies, test=[original]) == [NEAR_DUPLICATE] * 3


def test_what_the_guard_catches_and_what_it_does_not():
    fifteen = "What do you check first when a nightly backup of the main Postgres cluster fails?"
    test = ["How do you back up PostgreSQL?", fifteen]
    train = [
        "how do you BACK UP   postgresql!",  # the same after normalisation
        fifteen.replace("nightly", "weekly"),  # one word of fifteen changed: 14/16 words shared
        "How do you back up MySQL?",  # one word of six changed: 5/7 shared, caught too
        "Why do you like queues?",  # 2/9 shared with the first
        "How do you name things?",  # 3/8 shared with the first
    ]
    assert prompt_similarity(train[1], fifteen) == Fraction(7, 8)
    assert prompt_similarity(train[2], test[0]) == Fraction(5, 7)
    assert prompt_similarity(train[3], test[0]) == Fraction(2, 9)
    assert prompt_similarity(train[4], test[0]) == Fraction(3, 8)
    assert prompts_leaked(train=train, test=test) == [EXACT, NEAR_DUPLICATE, NEAR_DUPLICATE, None, None]


def test_a_three_word_substitution_is_below_the_threshold_like_two_different_short_questions():
    # The documented limit: "What is Python?" / "What is Django?" share 2 of 4 words, as do distinct questions.
    assert prompt_similarity("What is Python?", "What is Django?") == Fraction(1, 2)
    assert prompts_leaked(train=["What is Django?"], test=["What is Python?"]) == [None]


words = st.lists(st.sampled_from(VOCABULARY[:12]), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(train=st.lists(words, max_size=8), test=st.lists(words, max_size=8))
def test_prefix_filtering_finds_exactly_the_pairs_a_full_comparison_finds(train, test):
    train_texts, test_texts = [" ".join(w) for w in train], [" ".join(w) for w in test]
    expected = []
    for prompt in train_texts:
        if any(" ".join(prompt.split()) == other for other in test_texts):
            expected.append(EXACT)
        elif any(prompt_similarity(prompt, other) >= LEAKAGE_THRESHOLD for other in test_texts):
            expected.append(NEAR_DUPLICATE)
        else:
            expected.append(None)
    assert prompts_leaked(train=train_texts, test=test_texts) == expected


def test_distinct_prompts_are_kept():
    prompts = ["Why do you like queues?", "What is your advice on code review?", "How big should a function be?"]
    assert all(prompt_similarity(a, b) < LEAKAGE_THRESHOLD for a, b in combinations(prompts, 2))
    assert prompts_leaked(train=prompts[1:], test=prompts[:1]) == [None, None]
