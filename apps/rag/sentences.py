"""Whole sentences out of a text that arrives in pieces, and the prompt echo a small model starts with."""

import re

from apps.rag.grounding import split_sentences

_ECHO_PREFIXES = ("answer:", "assistant:", "twin:")
# A finished sentence ends with its punctuation, perhaps followed by citations, quotes or brackets.
_WHOLE = re.compile(r"[.!?:](?:\s*\[\d{1,2}\])*[\"')\]]*\s*(?:\[\d{1,2}\])*$")


class SentenceBuffer:
    """Feed text pieces, get back the sentences they complete; ``finish`` gives the last one if it is whole.

    A text cut off by the token limit ends mid-sentence: that fragment is dropped, not shown.
    """

    def __init__(self) -> None:
        self._text = ""

    def feed(self, piece: str) -> list[str]:
        self._text += piece
        sentences = split_sentences(self._text)
        if len(sentences) < 2:
            return []
        # The last part may still grow; the text from its start on is kept for the next pieces.
        start = self._text.rfind(sentences[-1])
        self._text = self._text[start:] if start >= 0 else sentences[-1]
        return sentences[:-1]

    def finish(self) -> list[str]:
        last, self._text = self._text.strip(), ""
        return [last] if last and is_whole(last) else []


def is_whole(sentence: str) -> bool:
    return bool(_WHOLE.search(sentence.rstrip()))


def trim_echo(answer: str, question: str) -> str:
    """Remove what a small model repeats of its prompt before answering."""
    text = answer.strip()
    if question.strip() and text.casefold().startswith(question.strip().casefold()):
        text = text[len(question.strip()) :].lstrip(" \n:?-")
    for prefix in _ECHO_PREFIXES:
        if text.casefold().startswith(prefix):
            text = text[len(prefix) :].lstrip()
    return text.split("<source", 1)[0].strip()
