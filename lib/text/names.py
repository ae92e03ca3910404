"""Folding names so that "Zoë O’Brien", "zoe o'brien" and "@zoe_obrien"-style mentions compare equal."""

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+")
LONGEST_NAME_WORDS = 6  # a name is looked for in a question as runs of up to this many words


def name_fold(text: str) -> str:
    """Case-, accent-, punctuation- and spacing-insensitive form of a name: lower-case words joined by spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(_NON_WORD.sub(" ", plain).split())


def name_candidates(text: str) -> list[str]:
    """Every run of 1 to LONGEST_NAME_WORDS consecutive folded words of text: what a mentioned name can be."""
    words = name_fold(text).split()
    return sorted(
        {" ".join(words[i : i + n]) for n in range(1, LONGEST_NAME_WORDS + 1) for i in range(len(words) - n + 1)}
    )
