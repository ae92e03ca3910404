"""Pseudo-questions from the corpus itself, in the manner of the Inverse Cloze Task (Lee et al., 2019).

There is no labelled question set, so a question is made from one sentence of a chunk's prose, and the
chunk *without that sentence* is the passage that answers it. Removing the sentence is the point: with it,
the reranker would learn to spot copied words; without it, it must judge whether the rest of the passage
is about what the sentence says, which is what a reranker does for a real question. Negatives lose a
sentence too (``passage_less_a_sentence``), or "the shorter passage" would give the answer away.

Document titles and heading paths were considered as questions and left out: every chunk starts with
its heading lines, so such a question is a copy of the positive's first words, and it fits every chunk
of its section alike.

The sentence is turned into a query by dropping its end punctuation and moving it from the author's first
person to the reader's second ("I restore the dump" -> "you restore the dump"): readers ask the twin about
"you", and a model trained on first-person queries would learn to match pronouns.

Pure text: no Django, no database.
"""

import hashlib
import random
import re
from dataclasses import dataclass

MIN_QUESTION_WORDS = 5
MAX_QUESTION_WORDS = 32
MIN_CONTEXT_WORDS = 15  # what is left of the passage must still say something

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SECOND_PERSON = {
    "i": "you",
    "i'm": "you're",
    "i've": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "we": "you",
    "we're": "you're",
    "we've": "you've",
    "us": "you",
    "our": "your",
    "ours": "yours",
}


@dataclass(frozen=True)
class PseudoQuestion:
    query: str
    positive_text: str  # the chunk the query came from, as the reranker is shown it in training
    chunk_id: int
    document_id: int


def prose_sentences(text: str) -> list[str]:
    """The sentences of a chunk's prose, in order: heading lines, code blocks and tables are left out."""
    sentences: list[str] = []
    in_code = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        stripped = line.strip()
        if in_code or not stripped or stripped.startswith(("#", "|")):
            continue
        sentences.extend(s.strip() for s in _SENTENCE_END.split(stripped) if s.strip())
    return sentences


def sentence_to_query(sentence: str) -> str:
    """The sentence as a reader would search for it: second person, no end punctuation, at most 32 words."""
    words = sentence.rstrip(" .!?;:").split()[:MAX_QUESTION_WORDS]
    return " ".join(_to_second_person(word) for word in words)


def _to_second_person(word: str) -> str:
    match = _WORD.search(word)
    if match is None or match.group().lower() not in _SECOND_PERSON:
        return word
    return word[: match.start()] + _SECOND_PERSON[match.group().lower()] + word[match.end() :]


def text_without(text: str, sentence: str) -> str:
    """The text with the sentence (and the spaces after it) removed once; blank lines left by it dropped."""
    removed = re.sub(re.escape(sentence) + r"[ \t]*", "", text, count=1)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in removed.splitlines())).strip()


def chunk_questions(*, text: str, chunk_id: int, document_id: int, seed: int, limit: int) -> list[PseudoQuestion]:
    """Up to ``limit`` questions from the chunk's sentences, chosen by ``seed`` and the text alone.

    Only sentences of 5 to 32 words qualify, and only when the rest of the chunk keeps at least 15 words
    of prose. The same text and seed always give the same questions.
    """
    usable = _usable_sentences(text)
    chosen = sorted(_rng("question", seed, text).sample(range(len(usable)), min(limit, len(usable))))
    return [
        PseudoQuestion(sentence_to_query(usable[i][0]), usable[i][1], chunk_id=chunk_id, document_id=document_id)
        for i in chosen
    ]


def passage_less_a_sentence(text: str, *, seed: int) -> str:
    """The chunk less one qualifying sentence (chosen by ``seed`` and the text), as negatives are shown.

    Every positive lacks the sentence its question came from; if negatives were whole, "the shorter
    passage" would be a shortcut to the answer. A chunk with no qualifying sentence is returned whole.
    """
    usable = _usable_sentences(text)
    return _rng("negative", seed, text).choice(usable)[1] if usable else text


def _usable_sentences(text: str) -> list[tuple[str, str]]:
    """(sentence, the text without it) for each sentence that can be a question."""
    usable = []
    for sentence in dict.fromkeys(prose_sentences(text)):  # a sentence repeated in the chunk is no question
        if not MIN_QUESTION_WORDS <= len(_WORD.findall(sentence)) <= MAX_QUESTION_WORDS:
            continue
        rest = text_without(text, sentence)
        if sum(len(_WORD.findall(s)) for s in prose_sentences(rest)) >= MIN_CONTEXT_WORDS:
            usable.append((sentence, rest))
    return usable


def _rng(purpose: str, seed: int, text: str) -> random.Random:
    # Keyed by the text, not the chunk id, so a re-crawled corpus gives the same choices.
    return random.Random(hashlib.sha256(f"{purpose}:{seed}:{text}".encode()).hexdigest())  # noqa: S311 - not a secret
