"""Stop strings cut streamed text the same way, whatever pieces it arrives in (pure text, no model)."""

import random

import pytest

from apps.rag.providers.base import StopTrimmer, backend_detail, trim_at_stop


def streamed(text: str, stop: tuple[str, ...], cuts: list[int]) -> str:
    trimmer = StopTrimmer(stop)
    bounds = [0, *sorted(cuts), len(text)]
    out = "".join(trimmer.feed(text[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))
    return out + trimmer.flush()


@pytest.mark.parametrize(
    ("text", "stop", "expected"),
    [
        ("Paris is lovely.\nUser: next", ("\nUser:",), "Paris is lovely."),
        ("no stop here", ("###",), "no stop here"),
        ("a##b###c", ("###",), "a##b"),
        ("one. two. three.", (". ", "two"), "one"),
        ("xabcd", ("abcd", "c"), "xab"),  # "c" completes before "abcd" does
        ("xabc", ("abc", "bc"), "x"),  # both complete at once: the longer one, which starts first
        ("text", ("", "zz"), "text"),
    ],
)
def test_text_is_cut_where_the_first_stop_string_completes(text, stop, expected):
    assert trim_at_stop(text, stop) == expected


@pytest.mark.parametrize("seed", range(20))
def test_any_split_into_pieces_gives_the_same_text(seed):
    rng = random.Random(seed)
    text = "".join(rng.choice("ab#\n ") for _ in range(40))
    stop = tuple({"".join(rng.choice("ab#\n ") for _ in range(rng.randint(1, 4))) for _ in range(3)})
    cuts = [rng.randint(0, len(text)) for _ in range(rng.randint(0, 12))]

    assert streamed(text, stop, cuts) == trim_at_stop(text, stop)


def test_a_stop_string_split_across_pieces_is_held_back_then_dropped():
    trimmer = StopTrimmer(("<|end|>",))

    assert trimmer.feed("Hello <|e") == "Hello "
    assert trimmer.feed("nd|> tail") == ""
    assert trimmer.stopped and trimmer.flush() == ""


def test_held_back_text_that_was_no_stop_string_comes_out_at_the_end():
    trimmer = StopTrimmer(("<|end|>",))

    assert trimmer.feed("Hello <|e") == "Hello "
    assert trimmer.flush() == "<|e"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"error": "Validation: too long", "error_type": "validation"}', "Validation: too long"),
        ({"message": "Rate limit reached", "type": "requests"}, "Rate limit reached"),
        (b'{"error": {"message": "Bad key"}}', "Bad key"),
        ("<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"),
        (None, ""),
    ],
)
def test_backend_detail_finds_the_message_in_tgi_and_openai_error_bodies(body, expected):
    assert backend_detail(body) == expected
