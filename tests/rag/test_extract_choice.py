"""Which passages an extractive answer quotes: the best, and the next only when it grades nearly as high.

Grades are the ones the graph gave on the Python FAQ (bench/rag_answers.py measured the margin on the Debian FAQ).
"""

from apps.rag.configuration import RagConfiguration
from apps.rag.nodes.extract import chosen_passages


def passages(*grades: float) -> list[dict]:
    return [{"n": n, "chunk_id": 100 + n, "grade": grade} for n, grade in enumerate(grades, start=1)]


def test_a_merely_relevant_second_passage_is_not_quoted_after_the_best():
    # "Why does Python use indentation…": its own section, then the one on trailing commas.
    chosen = chosen_passages(passages(0.99699, 0.89055, 0.72951), RagConfiguration())

    assert [p["n"] for p in chosen] == [1]


def test_a_near_tie_is_quoted_too_and_the_count_is_capped():
    # "How do I make a Python script executable on Unix?": the Unix answer and the Windows one, almost level.
    chosen = chosen_passages(passages(0.98881, 0.98978, 0.98, 0.9), RagConfiguration())

    assert [p["n"] for p in chosen] == [2, 1]


def test_with_nothing_above_the_threshold_the_best_alone_is_quoted():
    chosen = chosen_passages(passages(0.3, 0.31), RagConfiguration())

    assert [p["n"] for p in chosen] == [2]
