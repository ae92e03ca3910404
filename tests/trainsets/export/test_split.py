"""The group-aware split: no group on both sides, deterministic, both sides used, bad input refused."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.trainsets.export.split import GroupSplit, groups_split
from lib.errors import TwinsiteError

corpora = st.dictionaries(st.from_regex(r"document:[0-9]{1,4}", fullmatch=True), st.integers(1, 30), max_size=40)


@settings(max_examples=200, deadline=None)
@given(sizes=corpora, test_fraction=st.floats(0.01, 0.99), seed=st.integers(0, 2**32))
def test_every_group_lands_on_exactly_one_side(sizes, test_fraction, seed):
    split = groups_split(sizes, test_fraction=test_fraction, seed=seed)
    assert not split.train & split.test
    assert split.train | split.test == set(sizes)
    if len(sizes) >= 2:
        assert split.train and split.test
    else:
        assert not split.test  # one group cannot be held out without training on nothing
    assert split == groups_split(dict(reversed(sizes.items())), test_fraction=test_fraction, seed=seed)


def test_test_side_holds_about_the_fraction_of_items():
    sizes = {f"document:{n}": 3 for n in range(200)}
    split = groups_split(sizes, test_fraction=0.2, seed=7)
    held = sum(sizes[group] for group in split.test)
    assert 0.2 * 600 <= held < 0.2 * 600 + 3  # stops at the first group that reaches the target
    assert groups_split(sizes, test_fraction=0.2, seed=8).test != split.test  # the seed matters


def test_adding_a_document_moves_few_existing_ones():
    sizes = {f"document:{n}": 1 for n in range(100)}
    before = groups_split(sizes, test_fraction=0.1, seed=0)
    after = groups_split({**sizes, "document:100": 1}, test_fraction=0.1, seed=0)
    assert len(before.test - after.test) <= 1


@pytest.mark.parametrize(
    ("fraction", "seed", "field"), [(0, 0, "test_fraction"), (1.0, 0, "test_fraction"), (0.1, -1, "seed")]
)
def test_bad_parameters_are_refused_by_name(fraction, seed, field):
    with pytest.raises(TwinsiteError, match=field):
        groups_split({"document:1": 1, "document:2": 1}, test_fraction=fraction, seed=seed)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_large_document_never_takes_the_test_side_whole(seed):
    sizes = {"document:big": 22, "document:a": 1, "document:b": 1}
    split = groups_split(sizes, test_fraction=0.1, seed=seed)
    assert split == GroupSplit(train=frozenset({"document:big"}), test=frozenset({"document:a", "document:b"}))


def test_when_no_document_fits_the_fraction_the_smallest_one_is_held_out():
    # Three articles of 8, 9 and 7 samples at 0.1: 2.4 samples is less than any of them.
    split = groups_split({"document:1": 8, "document:2": 9, "document:3": 7}, test_fraction=0.1, seed=0)
    assert split.test == {"document:3"} and split.train == {"document:1", "document:2"}
