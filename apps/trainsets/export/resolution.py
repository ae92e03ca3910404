"""What a labeled preference pair exports as: the annotators' majority decides, edits replace the winner.

Pure: no Django. A vote is what one PreferenceLabel says in the pair's own terms (`prefers`).
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

CHOSEN = "chosen"
REJECTED = "rejected"
SKIP = "skip"


class Outcome:
    AS_IS = "as_is"  # the majority agrees with the pair
    SWAPPED = "swapped"  # the majority prefers the pair's rejected answer
    UNLABELED = "unlabeled"  # no vote but skips: the pair's review decides
    # Left out of the export, each counted under its own name:
    TIE = "tie"
    BOTH_BAD = "both_bad"
    NO_MAJORITY = "no_majority"


@dataclass(frozen=True)
class Vote:
    prefers: str  # chosen, rejected, tie, both_bad or skip
    edited_answer: str = ""
    at: datetime | None = None  # when the label last changed: the latest edit wins


@dataclass(frozen=True)
class Resolution:
    outcome: str
    chosen: str = ""
    rejected: str = ""
    edited: bool = False

    @property
    def exported(self) -> bool:
        return self.outcome in (Outcome.AS_IS, Outcome.SWAPPED)


def pair_resolve(*, chosen: str, rejected: str, votes: Sequence[Vote]) -> Resolution:
    """Resolve the votes on one pair. Skips do not count; a strict majority of the rest decides.

    chosen by the majority -> the pair as it is; rejected -> swapped; tie or both_bad or no
    strict majority -> left out. The latest edit by a voter for the winning side replaces that side.
    """
    counted = [vote for vote in votes if vote.prefers != SKIP]
    if not counted:
        return Resolution(outcome=Outcome.UNLABELED, chosen=chosen, rejected=rejected)
    verdict, number = Counter(vote.prefers for vote in counted).most_common(1)[0]
    if number * 2 <= len(counted):
        return Resolution(outcome=Outcome.NO_MAJORITY)
    if verdict not in (CHOSEN, REJECTED):
        return Resolution(outcome=verdict)  # tie or both_bad
    winner, loser = (chosen, rejected) if verdict == CHOSEN else (rejected, chosen)
    edits = [(i, vote) for i, vote in enumerate(counted) if vote.prefers == verdict and vote.edited_answer.strip()]
    edited = False
    if edits:
        # Latest by time; among equal (or missing) times the later label in the list.
        _, latest = max(edits, key=lambda item: (item[1].at is not None, item[1].at or datetime.min, item[0]))
        edited = latest.edited_answer.strip() != winner.strip()
        winner = latest.edited_answer.strip()
    outcome = Outcome.AS_IS if verdict == CHOSEN else Outcome.SWAPPED
    return Resolution(outcome=outcome, chosen=winner, rejected=loser, edited=edited)
