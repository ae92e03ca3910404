"""Quality filters for generated training data: length, language, duplicates, answers that echo the prompt.

Pure and framework-free. Each check returns the reason a sample fails (a short stable code that
generation stores as ``filter_reason`` and counts in ``GenerationRun.dropped``) or None.
Language is detected with py3langid (an offline naive Bayes model shipped in the wheel); near
duplicates reuse the documents' MinHash (apps/documents/text/dedup.py).
"""

import functools
import hashlib
import re
from dataclasses import dataclass, field

from lib.text.dedup import estimated_jaccard, lsh_bands, minhash_signature

INSTRUCTION_TOO_SHORT = "instruction_too_short"
INSTRUCTION_TOO_LONG = "instruction_too_long"
ANSWER_TOO_SHORT = "answer_too_short"
ANSWER_TOO_LONG = "answer_too_long"
WRONG_LANGUAGE = "wrong_language"
DUPLICATE = "duplicate"
NEAR_DUPLICATE = "near_duplicate"
REPEATS_PROMPT = "repeats_prompt"

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class QualityRules:
    instruction_words: tuple[int, int] = (3, 150)  # inclusive bounds
    answer_words: tuple[int, int] = (8, 1000)
    # Shorter texts, or a less certain detection, are not judged: a wrong guess would drop good data.
    language_min_chars: int = 20
    language_min_confidence: float = 0.7
    near_duplicate_threshold: float = 0.85
    # Share of the answer's word pairs found in the prompt above which it only repeats the prompt.
    repetition_threshold: float = 0.8


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def length_problem(text: str, bounds: tuple[int, int], *, name: str) -> str | None:
    """`<name>_too_short` or `<name>_too_long` when the text's word count is outside bounds."""
    count = len(words(text))
    if count < bounds[0]:
        return f"{name}_too_short"
    if count > bounds[1]:
        return f"{name}_too_long"
    return None


@functools.cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of the text's language."""
    language, probability = _identifier().classify(text)
    return language, float(probability)


def language_code(stated: str) -> str:
    """ "en-US" -> "en": documents state languages as HTML lang attributes do."""
    return stated.strip().lower().replace("_", "-").split("-")[0]


def confident_language(text: str, rules: QualityRules = QualityRules()) -> str | None:
    """The text's language when the detector is sure enough to act on it, else None."""
    if len(text.strip()) < rules.language_min_chars:
        return None
    language, probability = detect_language(text)
    return language if probability >= rules.language_min_confidence else None


def language_problem(text: str, *, expected: str, rules: QualityRules = QualityRules()) -> str | None:
    """WRONG_LANGUAGE when the text is confidently in another language than expected (empty: not judged)."""
    if not expected:
        return None
    detected = confident_language(text, rules)
    return WRONG_LANGUAGE if detected and detected != language_code(expected) else None


def repeats_prompt(prompt: str, answer: str, *, threshold: float = QualityRules.repetition_threshold) -> bool:
    """True when (nearly) all of the answer is already in the prompt: it adds nothing of its own."""
    answer_words, prompt_words = words(answer), words(prompt)
    if not answer_words:
        return True
    if len(answer_words) == 1:
        return answer_words[0] in prompt_words
    pairs = list(zip(answer_words, answer_words[1:], strict=False))
    known = set(zip(prompt_words, prompt_words[1:], strict=False))
    return sum(pair in known for pair in pairs) / len(pairs) >= threshold


def sample_problem(
    *, instruction: str, answer: str, language: str = "", rules: QualityRules = QualityRules()
) -> str | None:
    """The first reason the sample fails the per-sample filters (duplicates are DuplicateIndex's job)."""
    return (
        length_problem(instruction, rules.instruction_words, name="instruction")
        or length_problem(answer, rules.answer_words, name="answer")
        or language_problem(instruction, expected=language, rules=rules)
        or language_problem(answer, expected=language, rules=rules)
        or (REPEATS_PROMPT if repeats_prompt(instruction, answer, threshold=rules.repetition_threshold) else None)
    )


def exact_key(text: str) -> str:
    """Texts equal up to case, punctuation and whitespace share this key."""
    return hashlib.sha256(" ".join(words(text)).encode()).hexdigest()


@dataclass
class DuplicateIndex:
    """The texts kept so far; ``check`` says whether a new one copies or nearly copies one of them."""

    threshold: float = QualityRules.near_duplicate_threshold
    _exact: set[str] = field(default_factory=set)
    _signatures: list[list[int]] = field(default_factory=list)
    _bands: dict[int, list[int]] = field(default_factory=dict)  # LSH band key -> indexes into _signatures

    def check(self, text: str) -> str | None:
        """DUPLICATE or NEAR_DUPLICATE of a text added before, else None (the text is not added)."""
        if exact_key(text) in self._exact:
            return DUPLICATE
        signature = minhash_signature(text)
        candidates = {i for key in lsh_bands(signature) for i in self._bands.get(key, ())}
        if any(estimated_jaccard(signature, self._signatures[i]) >= self.threshold for i in candidates):
            return NEAR_DUPLICATE
        return None

    def add(self, text: str) -> None:
        self._exact.add(exact_key(text))
        signature = minhash_signature(text)
        self._signatures.append(signature)
        for key in lsh_bands(signature):
            self._bands.setdefault(key, []).append(len(self._signatures) - 1)

    def check_and_add(self, text: str) -> str | None:
        """check, then remember the text when it passed."""
        problem = self.check(text)
        if problem is None:
            self.add(text)
        return problem
