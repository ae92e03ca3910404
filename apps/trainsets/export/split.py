"""The train/test split, made by group (a source document, or a conversation) so no group is on both sides.

Pure: no Django. Each group's place in the order comes from a hash of the seed and its key, not from
a shuffle of the current list, so adding documents to the corpus moves few existing groups across.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from lib.errors import TwinsiteError


@dataclass(frozen=True)
class GroupSplit:
    train: frozenset[str]
    test: frozenset[str]


def _rank(group: str, seed: int) -> bytes:
    return hashlib.blake2b(f"{seed}:{group}".encode(), digest_size=16).digest()


def split_check(*, test_fraction: float, seed: int) -> None:
    """Refuse a test fraction outside (0, 1) or a negative seed, naming the field."""
    if not 0 < test_fraction < 1:
        raise TwinsiteError(f"test_fraction must lie strictly between 0 and 1, not {test_fraction}.")
    if seed < 0:
        raise TwinsiteError(f"seed must be 0 or more, not {seed}.")


def groups_split(sizes: Mapping[str, int], *, test_fraction: float, seed: int) -> GroupSplit:
    """Split groups (key -> number of items) so that about test_fraction of the items are in test.

    Groups go to test in hash order while they fit under test_fraction of the items; one that would
    overshoot is passed over, so a large document cannot take the test side whole. With two or more
    groups each side gets at least one (if none fits, the smallest group is held out); a single group
    goes to train (there is nothing to hold out without cutting it in two). The same sizes, fraction
    and seed always give the same split.
    """
    split_check(test_fraction=test_fraction, seed=seed)
    groups = sorted(sizes, key=lambda group: (_rank(group, seed), group))
    if len(groups) < 2:
        return GroupSplit(train=frozenset(groups), test=frozenset())
    target = test_fraction * sum(sizes.values())
    test: list[str] = []
    held = 0
    for group in groups:
        if held >= target or len(test) == len(groups) - 1:  # at least one group always stays in train
            break
        if held + sizes[group] <= target:
            test.append(group)
            held += sizes[group]
    if not test:
        test.append(min(groups, key=lambda group: sizes[group]))  # the first smallest, in hash order
    return GroupSplit(train=frozenset(groups) - frozenset(test), test=frozenset(test))
