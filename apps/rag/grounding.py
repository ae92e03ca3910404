"""Does a passage support a sentence? The one scorer the graph's check and evaluate_rag both use.

No NLI model can be had offline here, so support is measured from what is: the share of the
sentence's content words that the passage contains (lexical), and the MiniLM cosine between the
sentence and the passage's closest window of sentences (semantic). ``bench/groundedness.py``
measures each method on a labelled set; the configuration names the one in use and its threshold.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

METHODS = ("lexical", "semantic", "hybrid")

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9`])|\n{2,}|\n(?=\s*(?:[-*•]|\d+[.)])\s)")
_CITATION = re.compile(r"\[(\d{1,2})\]")
_CITATION_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d{1,2}\])+)")
_WORD = re.compile(r"[a-z0-9][a-z0-9+#_./'-]*[a-z0-9+#]|[a-z0-9]")
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just let me
    more most my myself no nor not now of off on once only or other our ours ourselves out over own same
    she should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves one may might must shall like well many much use used using
    get got make made see way ways thing things really simply""".split()  # noqa: SIM905 - a word list reads better as text
)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text; list items count as sentences. A citation after the full stop moves before it."""
    text = _CITATION_AFTER_STOP.sub(r"\2\1", text.strip())
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


# Text addressed to a model ("ignore your instructions", "reply only with ...") is never support: a model that
# obeyed it would otherwise pass the check by copying it.
_ADDRESSED_TO_MODEL = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions|prompt|rules|above)\b|\byou are now\b|\breply only\b"
    r"|\brespond only\b|\bsystem prompt\b|\bas an ai\b",
    re.I,
)


def without_instructions(passage: str) -> str:
    """The passage without its sentences that speak to a model rather than about the subject."""
    if not _ADDRESSED_TO_MODEL.search(passage):
        return passage
    return " ".join(s for s in split_sentences(passage) if not _ADDRESSED_TO_MODEL.search(s))


def cited_numbers(sentence: str) -> list[int]:
    return [int(n) for n in dict.fromkeys(_CITATION.findall(sentence))]


def strip_citations(sentence: str) -> str:
    return _CITATION.sub("", sentence).strip()


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ing", "ed", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    """Lower-cased, crudely stemmed words that carry meaning: no stop words, no bare punctuation."""
    return [_stem(w) for w in _WORD.findall(text.casefold()) if w not in STOPWORDS]


def lexical_support(sentence: str, passage: str) -> float:
    """Share of the sentence's distinct content words found in the passage (0 for a sentence without any)."""
    words = set(content_words(strip_citations(sentence)))
    if not words:
        return 0.0
    return len(words & set(content_words(passage))) / len(words)


def passage_windows(passage: str, size: int = 2) -> list[str]:
    """Overlapping windows of ``size`` sentences: a sentence is compared with the part of a passage it restates."""
    sentences = split_sentences(passage) or [passage]
    if len(sentences) <= size:
        return [" ".join(sentences)]
    return [" ".join(sentences[i : i + size]) for i in range(len(sentences) - size + 1)]


@dataclass(frozen=True)
class Support:
    score: float  # what the method in use says, compared with the threshold
    lexical: float
    semantic: float | None
    passages: tuple[int, ...]  # the numbers of the passages the sentence was checked against
    best: int | None = None  # the one that supports it most


Encode = Callable[[list[str]], list[list[float]]]


class SupportScorer:
    """Scores sentences against passages with one method; ``encode`` (unit vectors) is needed unless lexical."""

    def __init__(self, *, method: str = "hybrid", encode: Encode | None = None, semantic_weight: float = 0.5) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
        if method != "lexical" and encode is None:
            raise ValueError(f"the {method} method needs an encoder")
        self.method, self._encode, self._weight = method, encode, semantic_weight
        self._window_vectors: dict[str, list[list[float]]] = {}

    def support(self, sentence: str, passages: dict[int, str]) -> Support:
        """The best support any of the passages gives the sentence."""
        return self.support_many([sentence], [passages])[0]

    def support_many(self, sentences: Sequence[str], passages: Sequence[dict[int, str]]) -> list[Support]:
        """Each sentence's best support among its own passages (passage number -> text)."""
        texts = [strip_citations(s) for s in sentences]
        passages = [{n: without_instructions(p) for n, p in ps.items()} for ps in passages]
        lexical = [{n: lexical_support(t, p) for n, p in ps.items()} for t, ps in zip(texts, passages, strict=True)]
        semantic = self._semantic(texts, passages) if self.method != "lexical" else [{} for _ in texts]
        results = []
        for lx, sem, ps in zip(lexical, semantic, passages, strict=True):
            scores = {n: self._combine(lx[n], sem.get(n)) for n in ps}
            best = max(scores, key=lambda n: (scores[n], -n), default=None)
            results.append(
                Support(
                    score=round(scores[best], 4) if best is not None else 0.0,
                    lexical=round(lx[best], 4) if best is not None else 0.0,
                    semantic=round(sem[best], 4) if best is not None and sem else None,
                    passages=tuple(ps),
                    best=best,
                )
            )
        return results

    def _combine(self, lexical: float, semantic: float | None) -> float:
        if self.method == "lexical" or semantic is None:
            return lexical
        if self.method == "semantic":
            return semantic
        return (1 - self._weight) * lexical + self._weight * semantic

    def _semantic(self, texts: list[str], passages: Sequence[dict[int, str]]) -> list[dict[int, float]]:
        new = sorted({p for ps in passages for p in ps.values()} - set(self._window_vectors))
        windows = [passage_windows(p) for p in new]
        flat = [w for group in windows for w in group]
        vectors = self._encode([*texts, *flat]) if texts or flat else []
        sentence_vectors, window_vectors = vectors[: len(texts)], vectors[len(texts) :]
        start = 0
        for passage, group in zip(new, windows, strict=True):
            self._window_vectors[passage] = window_vectors[start : start + len(group)]
            start += len(group)
        scores = []
        for vector, ps in zip(sentence_vectors, passages, strict=True):
            scores.append(
                {
                    n: min(1.0, max(0.0, max(_dot(vector, w) for w in self._window_vectors[passage])))
                    for n, passage in ps.items()
                }
            )
        return scores


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))
