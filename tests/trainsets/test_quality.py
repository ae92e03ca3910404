"""Quality filters for training data: each drops what it should, with its reason, and keeps good samples."""

import pytest

from apps.trainsets import quality

ANSWER = (
    "Every night a cron job runs pg_dump against the replica, never the primary, so backups never slow down the "
    "users. The dump is compressed with zstd and copied to object storage in another region."
)
INSTRUCTION = "How do you back up your PostgreSQL database?"
FRENCH = (
    "Chaque nuit, une tâche planifiée lance pg_dump sur la réplique et jamais sur le serveur principal, pour que "
    "les sauvegardes ne ralentissent pas les utilisateurs."
)


def test_a_good_sample_passes_every_filter():
    assert quality.sample_problem(instruction=INSTRUCTION, answer=ANSWER, language="en") is None


@pytest.mark.parametrize(
    ("instruction", "answer", "reason"),
    [
        ("Why?", ANSWER, quality.INSTRUCTION_TOO_SHORT),
        ("Explain " + "this and that " * 60, ANSWER, quality.INSTRUCTION_TOO_LONG),
        (INSTRUCTION, "Nightly dumps.", quality.ANSWER_TOO_SHORT),
        (INSTRUCTION, "word " * 1001, quality.ANSWER_TOO_LONG),
    ],
)
def test_length_bounds_drop_too_short_and_too_long_texts(instruction, answer, reason):
    assert quality.sample_problem(instruction=instruction, answer=answer, language="en") == reason


def test_length_bounds_are_inclusive_and_count_words_not_characters():
    rules = quality.QualityRules(answer_words=(3, 5))
    assert quality.length_problem("one, two; three!", rules.answer_words, name="answer") is None
    assert quality.length_problem("one two three four five", rules.answer_words, name="answer") is None
    assert quality.length_problem("one two three four five six", rules.answer_words, name="answer") == "answer_too_long"


def test_language_filter_drops_an_answer_in_another_language_than_the_document():
    assert quality.detect_language(FRENCH)[0] == "fr"
    assert quality.sample_problem(instruction=INSTRUCTION, answer=FRENCH, language="en") == quality.WRONG_LANGUAGE
    # The stated language may carry a region; a French document's French answer passes.
    assert quality.language_problem(FRENCH, expected="fr-FR") is None
    assert quality.language_problem(ANSWER, expected="fr-FR") == quality.WRONG_LANGUAGE


def test_language_filter_leaves_alone_what_it_cannot_judge():
    assert quality.language_problem(FRENCH, expected="") is None  # language of the document unknown
    assert quality.language_problem("pg_dump -Fc", expected="en") is None  # too short to tell
    assert quality.confident_language("ok") is None


def test_answer_that_only_repeats_the_prompt_is_dropped():
    echo = "How do you back up your PostgreSQL database? How do you back up your PostgreSQL database"
    assert quality.sample_problem(instruction=INSTRUCTION, answer=echo, language="en") == quality.REPEATS_PROMPT
    # Quoting the question before answering it is fine.
    quoted = f"{INSTRUCTION} {ANSWER}"
    assert quality.sample_problem(instruction=INSTRUCTION, answer=quoted, language="en") is None


def test_exact_duplicates_ignore_case_punctuation_and_spacing():
    index = quality.DuplicateIndex()
    assert index.check_and_add(ANSWER) is None
    assert index.check_and_add("  " + ANSWER.upper().replace(",", "") + "\n") == quality.DUPLICATE


def test_near_duplicates_are_found_and_different_texts_are_not():
    index = quality.DuplicateIndex(threshold=0.8)
    assert index.check_and_add(ANSWER + " " + ANSWER.replace("replica", "standby")) is None
    edited = ANSWER + " " + ANSWER.replace("replica", "standby").replace("zstd", "gzip")
    assert index.check(edited) == quality.NEAR_DUPLICATE
    other = (
        "I feed the starter with equal weights of rye flour and water every evening, and it doubles by morning "
        "when the kitchen stays warm. The dough rests for an hour before I add the salt."
    )
    assert index.check_and_add(other) is None
    assert index.check(other) == quality.DUPLICATE  # kept texts are remembered, checked ones only when they pass
