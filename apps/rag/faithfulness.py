"""Faithfulness of an answer: the share of its claims that the text they cite supports.

The same scorer and threshold as the graph's groundedness check. The twin's own fixed lines (an
extractive answer's lead-in, "my sources don't cover that") are not claims; a quoted passage is
checked as the claim that it cites. A sentence that cites nothing is checked against what the
answer cites elsewhere, or, when it cites nothing at all, against every passage it was shown.
"""

import re

from apps.rag import prompts
from apps.rag.grounding import SupportScorer, cited_numbers, split_sentences

_LEAD = re.compile(re.escape(prompts.EXTRACT_LEAD).replace(r"\{titles\}", ".+") + r"$")
_FIXED = {prompts.NO_ANSWER, prompts.CLOSEST_LEAD, prompts.NOTHING_SUPPORTED}


def answer_claims(answer: str) -> list[tuple[str, list[int]]]:
    """(claim, the passage numbers it cites) for each claim of an answer."""
    claims: list[tuple[str, list[int]]] = []
    for paragraph in re.split(r"\n\s*\n", answer.strip()):
        paragraph = paragraph.strip()
        if not paragraph or paragraph in _FIXED or _LEAD.match(paragraph):
            continue
        if paragraph.startswith(">"):
            text = "\n".join(line.lstrip(">").strip() for line in paragraph.splitlines())
            claims.append((text, cited_numbers(text)))
            continue
        for sentence in split_sentences(paragraph):
            if sentence not in _FIXED and not _LEAD.match(sentence):
                claims.append((sentence, cited_numbers(sentence)))
    return claims


def answer_faithfulness(
    answer: str, passages: dict[int, str], scorer: SupportScorer, threshold: float
) -> tuple[float | None, list[dict]]:
    """(share of supported claims or None when the answer makes none, each claim with its score)."""
    claims = answer_claims(answer)
    if not claims:
        return None, []
    cited_anywhere = [n for _, numbers in claims for n in numbers if n in passages]
    checked = []
    for claim, numbers in claims:
        own = [n for n in numbers if n in passages]
        against = own or cited_anywhere or list(passages)
        checked.append((claim, {n: passages[n] for n in dict.fromkeys(against)}))
    supports = scorer.support_many([c for c, _ in checked], [p for _, p in checked])
    sentences = [
        {"sentence": claim[:500], "score": s.score, "supported": s.score >= threshold, "checked_against": list(p)}
        for (claim, p), s in zip(checked, supports, strict=True)
    ]
    return sum(s["supported"] for s in sentences) / len(sentences), sentences
