"""Test prompts must not reach training: find train prompts equal or near-equal to a test prompt.

Pure: no Django. Exact means equal after normalisation (Unicode NFKC, case, punctuation and
whitespace ignored); near means MinHash (apps/documents/text/dedup.py) over word trigrams at or
above a Jaccard threshold. Prompts are short, so trigrams rather than the documents' 5-grams:
a 12-word question has ten trigrams, and one changed word still leaves most of them shared.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

from lib.text.dedup import estimated_jaccard, lsh_bands, minhash_signature

EXACT = "exact"
NEAR_DUPLICATE = "near_duplicate"
_SHINGLE = 3
_WORD = re.compile(r"\w+")


def prompt_normalise(text: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def prompts_leaked(*, train: Sequence[str], test: Sequence[str], threshold: float) -> list[str | None]:
    """For each train prompt: EXACT or NEAR_DUPLICATE when it repeats a test prompt, else None."""
    test_exact = {prompt_normalise(prompt) for prompt in test}
    index: dict[int, list[int]] = defaultdict(list)  # LSH band key -> positions in test_signatures
    test_signatures = []
    for prompt in test:
        signature = minhash_signature(prompt, shingle=_SHINGLE)
        for key in lsh_bands(signature):
            index[key].append(len(test_signatures))
        test_signatures.append(signature)

    verdicts: list[str | None] = []
    for prompt in train:
        if prompt_normalise(prompt) in test_exact:
            verdicts.append(EXACT)
            continue
        signature = minhash_signature(prompt, shingle=_SHINGLE)
        candidates = {position for key in lsh_bands(signature) for position in index.get(key, ())}
        near = any(estimated_jaccard(signature, test_signatures[position]) >= threshold for position in candidates)
        verdicts.append(NEAR_DUPLICATE if near else None)
    return verdicts
