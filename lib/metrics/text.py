"""Automatic evaluation metrics that need no model: answer overlap, function-word style, embedding centroids.

Pure functions over strings and vectors, so they are tested with known answers
and reused wherever an answer is compared with the author's writing.
"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# Words whose rates say how someone writes rather than what about (Mosteller & Wallace's
# authorship markers and their kin): articles, pronouns, prepositions, conjunctions, auxiliaries.
FUNCTION_WORDS: tuple[str, ...] = (
    "a", "about", "above", "after", "again", "against", "all", "also", "although", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
    "can", "could", "did", "do", "does", "doing", "down", "during", "each", "either", "enough", "even", "every",
    "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
    "him", "himself", "his", "how", "however", "i", "if", "in", "into", "is", "it", "its", "itself", "just",
    "less", "may", "me", "might", "more", "most", "much", "must", "my", "myself", "neither", "never", "no",
    "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out",
    "over", "own", "same", "shall", "she", "should", "since", "so", "some", "such", "than", "that", "the",
    "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "though",
    "through", "thus", "to", "too", "under", "until", "up", "upon", "us", "very", "was", "we", "were", "what",
    "when", "where", "whether", "which", "while", "who", "whom", "whose", "why", "will", "with", "within",
    "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves",
)  # fmt: skip
_FUNCTION_INDEX = {word: i for i, word in enumerate(FUNCTION_WORDS)}


def words(text: str) -> list[str]:
    """Lower-cased word tokens; an apostrophe inside a word keeps it whole (don't, Ada's)."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def rouge_l_f1(candidate: str, reference: str) -> float:
    """ROUGE-L F1: the longest common subsequence of words, as the harmonic mean of its precision and recall."""
    cand, ref = words(candidate), words(reference)
    if not cand or not ref:
        return 0.0
    lcs = _lcs_length(cand, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    # One row of the dynamic programme at a time: memory O(len(b)), fine for answers of any length.
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def function_word_distribution(texts: Iterable[str]) -> list[float]:
    """Relative frequencies of FUNCTION_WORDS over all the texts (all zeros when none occurs)."""
    counts = Counter(word for text in texts for word in words(text) if word in _FUNCTION_INDEX)
    total = sum(counts.values())
    return [counts[word] / total if total else 0.0 for word in FUNCTION_WORDS]


def jensen_shannon_distance(p: Sequence[float], q: Sequence[float]) -> float:
    """The Jensen-Shannon distance (square root of the base-2 divergence): 0 for equal distributions, 1 for disjoint.

    An all-zero side (texts without a single function word) is as far as can be from anything but another empty one.
    """
    if len(p) != len(q):
        raise ValueError(f"distributions differ in length: {len(p)} and {len(q)}")
    p_empty, q_empty = not any(p), not any(q)
    if p_empty or q_empty:
        return 0.0 if p_empty and q_empty else 1.0
    divergence = 0.0
    for pi, qi in zip(p, q, strict=True):
        mi = (pi + qi) / 2
        if pi:
            divergence += pi * math.log2(pi / mi) / 2
        if qi:
            divergence += qi * math.log2(qi / mi) / 2
    return math.sqrt(min(max(divergence, 0.0), 1.0))


def function_word_distance(texts: Iterable[str], references: Iterable[str]) -> float:
    """How far the function-word habits of texts are from those of references (0 = the same, 1 = disjoint)."""
    return jensen_shannon_distance(function_word_distribution(texts), function_word_distribution(references))


def centroid_similarity(vectors: Sequence[Sequence[float]], references: Sequence[Sequence[float]]) -> float:
    """Cosine similarity of the mean of vectors to the mean of references (0 when either mean is the zero vector)."""
    if not vectors or not references:
        raise ValueError("centroid_similarity needs at least one vector on each side")
    a, b = _mean(vectors), _mean(references)
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


def _mean(vectors: Sequence[Sequence[float]]) -> list[float]:
    size = len(vectors[0])
    if any(len(v) != size for v in vectors):
        raise ValueError("vectors differ in length")
    return [sum(column) / len(vectors) for column in zip(*vectors, strict=True)]


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
