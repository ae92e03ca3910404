"""Agreement between annotators: Cohen's kappa for each pair of annotators, and pooled percent agreement.

Pure functions over plain mappings, tested without a database. Callers pass labels in the preference pair's
own terms (chosen / rejected / tie / both_bad), never the A/B shown on screen: the order is random per label,
so "A" names different answers for different annotators. Skips are not verdicts and are left out.
"""

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two annotators' labels on the same items, in the same order.

    None when it is undefined: no items, or both annotators used one and the same category throughout
    (chance agreement is then 1, and kappa is 0/0; the percent agreement still says how they did).
    """
    if len(first) != len(second):
        raise ValueError(f"Both annotators need a label per item: got {len(first)} and {len(second)}.")
    n = len(first)
    if n == 0:
        return None
    agreed = sum(a == b for a, b in zip(first, second, strict=True))
    counts_first, counts_second = Counter(first), Counter(second)
    # Integer arithmetic until the end, so "chance agreement is exactly 1" is tested exactly.
    chance = sum(counts_first[category] * counts_second[category] for category in counts_first)
    if chance == n * n:
        return None
    return (agreed * n - chance) / (n * n - chance)


def kappa_strength(kappa: float | None) -> str:
    """Landis and Koch's words for a kappa, as annotation guidelines usually quote them."""
    if kappa is None:
        return "undefined"
    if kappa < 0:
        return "poor"
    for bound, words in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if kappa <= bound:
            return words
    return "almost perfect"


@dataclass(frozen=True)
class PairAgreement:
    """How two annotators agree on the items both of them labeled."""

    first: str
    second: str
    common: int
    agreed: int
    kappa: float | None

    @property
    def percent(self) -> float:
        return 100.0 * self.agreed / self.common

    @property
    def strength(self) -> str:
        return kappa_strength(self.kappa)


@dataclass(frozen=True)
class AgreementReport:
    pairs: list[PairAgreement]
    comparisons: int  # one per item per pair of annotators who both labeled it
    agreed: int
    items_multiply_labeled: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.agreed / self.comparisons if self.comparisons else None


def agreement_report(labels: Mapping[str, Mapping[Hashable, Hashable]]) -> AgreementReport:
    """Agreement of every pair of annotators on their common items, and pooled over all of them.

    `labels` maps annotator -> {item: category}. The overall percent pools every comparison: an item
    labeled by three annotators counts three times (a-b, a-c, b-c), as in pairwise percent agreement.
    """
    pairs = []
    for first, second in combinations(sorted(labels), 2):
        common = sorted(labels[first].keys() & labels[second].keys(), key=repr)
        if not common:
            continue
        verdicts_first = [labels[first][item] for item in common]
        verdicts_second = [labels[second][item] for item in common]
        agreed = sum(a == b for a, b in zip(verdicts_first, verdicts_second, strict=True))
        kappa = cohen_kappa(verdicts_first, verdicts_second)
        pairs.append(PairAgreement(first=first, second=second, common=len(common), agreed=agreed, kappa=kappa))
    annotators_per_item = Counter(item for verdicts in labels.values() for item in verdicts)
    return AgreementReport(
        pairs=pairs,
        comparisons=sum(pair.common for pair in pairs),
        agreed=sum(pair.agreed for pair in pairs),
        items_multiply_labeled=sum(1 for count in annotators_per_item.values() if count >= 2),
    )
