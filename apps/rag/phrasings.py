"""What a model writes as a question is used as one only if it is one: no answers, no code, no commentary."""

import re

_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)]|q\d*[:.)])\s*", re.I)
_CODE = re.compile(r"`|#!|\$ |\{|\}|;\s*$|^\s*(?:sudo|pip|apt|npm|git|cd|ls|echo|import|def|class)\b|=>|::|</?\w+>")
_ANSWER_OPENING = re.compile(
    r"^(yes|no|sure|certainly|of course|here|to |you can|you should|you need|first|the answer|answer|note|sorry)\b",
    re.I,
)
_QUESTION_OPENING = re.compile(
    r"^(how|what|which|why|when|where|who|whom|whose|is|are|am|was|were|do|does|did|can|could|should|would|will|"
    r"shall|may|might|has|have|had|in what|on what|for what|at what|to what|any|tell me|explain|describe|"
    r"list|give me)\b",
    re.I,
)
MIN_WORDS, MAX_WORDS = 3, 30


def question_or_none(text: str) -> str | None:
    """text as a one-line question, or None when it is an answer, code, commentary or a fragment."""
    candidate = _LIST_MARKER.sub("", text.strip()).strip().strip('"').strip()
    words = candidate.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or "\n" in candidate:
        return None
    if _CODE.search(candidate) or _ANSWER_OPENING.match(candidate):
        return None
    if not (candidate.endswith("?") or _QUESTION_OPENING.match(candidate)):
        return None
    if candidate.count(".") > 1 or re.search(r"[.!?]\s+\S", candidate):  # more than one sentence
        return None
    return candidate


def parse_phrasings(text: str, *, question: str, n: int) -> tuple[list[str], list[str]]:
    """(kept, rejected) lines of a model's answer: distinct questions other than the question itself."""
    seen = {question.casefold().strip()}
    kept, rejected = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        candidate = question_or_none(line)
        if candidate is None:
            rejected.append(line.strip()[:200])
        elif candidate.casefold() not in seen and len(kept) < n:
            seen.add(candidate.casefold())
            kept.append(candidate)
    return kept, rejected
