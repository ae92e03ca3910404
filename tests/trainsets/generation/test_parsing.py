"""Reading model output: usable instructions and JSON pairs are taken, anything else is refused with a reason."""

import pytest

from apps.trainsets.generation.parsing import InvalidOutput, parse_generated, parse_instruction

PASSAGE = "I feed the starter with equal weights of rye flour and water every evening, and it doubles by morning."


@pytest.mark.parametrize(
    "reply",
    [
        "How do you keep your sourdough starter alive?",
        'Question: "How do you keep your sourdough starter alive?"',
        "1. How do you keep your sourdough starter alive?\nIt is fed every evening.",
        "\n\n**How do you keep your sourdough starter alive?**",
    ],
)
def test_instruction_is_the_first_line_without_labels_or_quotes(reply):
    assert parse_instruction(reply, passage=PASSAGE) == "How do you keep your sourdough starter alive?"


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("", "empty"),
        ("Here's a one-sentence request that would make someone write the text above:", "instead of doing it"),
        ("Why?", "words"),
        ("I feed the starter with equal weights of rye flour and water every evening", "copies the passage"),
    ],
)
def test_unusable_instructions_are_refused_with_a_reason(reply, why):
    with pytest.raises(InvalidOutput, match=why):
        parse_instruction(reply, passage=PASSAGE)


def test_generated_pairs_are_read_from_json_in_fences_or_chatter_and_deduplicated():
    reply = (
        "Sure, here you go:\n```json\n"
        '{"pairs": [{"instruction": " Why rye? ", "answer": "Rye ferments fast."},'
        ' {"instruction": "why rye", "answer": "Again."}, {"instruction": "When do you feed it?", "answer": "At 8."},'
        ' {"instruction": "Third?", "answer": "Yes.", "extra": 1}]}\n```'
    )
    pairs = parse_generated(reply, limit=2)
    assert [(p.instruction, p.answer) for p in pairs] == [
        ("Why rye?", "Rye ferments fast."),
        ("When do you feed it?", "At 8."),
    ]
    bare = parse_generated('[{"instruction": "Why rye?", "answer": "It is fast."}]', limit=3)
    assert [p.answer for p in bare] == ["It is fast."]


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("I cannot write JSON today.", "no JSON"),
        ('{"pairs": []}', "pairs"),
        ('{"pairs": [{"instruction": "Why rye?"}]}', "answer"),
        ('{"pairs": [{"instruction": "  ", "answer": "x"}]}', "instruction"),
    ],
)
def test_invalid_structured_output_is_refused_naming_the_field(reply, why):
    with pytest.raises(InvalidOutput, match=why):
        parse_generated(reply, limit=3)
