"""Weighted reciprocal rank fusion of the dense and lexical rankings (pure, no database)."""

import pytest

from apps.documents.search.fusion import FusedRank, demote_section_repeats, reciprocal_rank_fusion


def fuse(dense, lexical, dense_weight=1.0, lexical_weight=1.0, rrf_k=60):
    return reciprocal_rank_fusion(
        dense=dense, lexical=lexical, dense_weight=dense_weight, lexical_weight=lexical_weight, rrf_k=rrf_k
    )


def test_a_chunk_both_lists_rank_beats_one_that_only_one_list_ranks_first():
    fused = fuse(dense=[7, 3, 9], lexical=[5, 3])
    assert [hit.chunk_id for hit in fused] == [3, 5, 7, 9]
    top = fused[0]
    assert (top.dense_rank, top.lexical_rank) == (2, 2)
    assert top.score == pytest.approx(2 / 62)
    assert (fused[1].dense_rank, fused[1].lexical_rank) == (None, 1)


def test_weights_decide_between_the_lists_and_equal_scores_go_to_the_lower_chunk_id():
    assert [hit.chunk_id for hit in fuse(dense=[8], lexical=[4])] == [4, 8]  # 1/61 each: a tie
    assert [hit.chunk_id for hit in fuse(dense=[8], lexical=[4], dense_weight=1.5)] == [8, 4]
    assert [hit.chunk_id for hit in fuse(dense=[8], lexical=[4], lexical_weight=0.5)] == [8, 4]


def test_the_rrf_constant_sets_how_much_the_top_ranks_dominate():
    # Chunk 2 is second and third; chunk 1 is first once. A small constant lets one first place win.
    assert [hit.chunk_id for hit in fuse(dense=[1, 2], lexical=[9, 8, 2], rrf_k=60)][0] == 2
    assert [hit.chunk_id for hit in fuse(dense=[1, 2], lexical=[9, 8, 2], rrf_k=0)][0] == 1


def test_empty_rankings_fuse_to_nothing():
    assert fuse(dense=[], lexical=[]) == []


def ranked(*chunk_ids: int) -> list[FusedRank]:
    return [FusedRank(chunk_id, 1 / (60 + rank), rank, None) for rank, chunk_id in enumerate(chunk_ids, start=1)]


def test_a_sections_later_chunks_fall_behind_every_other_sections_best():
    sections = {1: "faq#hold", 2: "faq#hold", 3: "faq#hold", 4: "faq#pin", 5: "faq#purge"}
    spread = demote_section_repeats(ranked(1, 2, 3, 4, 5), section_of=sections, per_section=1, weight=0.1)
    assert [hit.chunk_id for hit in spread] == [1, 4, 5, 2, 3]
    assert spread[3].score == pytest.approx(0.1 / 62) and spread[1].score == pytest.approx(1 / 64)
    two = demote_section_repeats(ranked(1, 2, 3, 4, 5), section_of=sections, per_section=2, weight=0.1)
    assert [hit.chunk_id for hit in two] == [1, 2, 4, 5, 3]


def test_chunks_without_a_section_are_never_demoted():
    spread = demote_section_repeats(ranked(1, 2, 3), section_of={1: None, 2: None}, per_section=1, weight=0.1)
    assert [(hit.chunk_id, hit.score) for hit in spread] == [(1, 1 / 61), (2, 1 / 62), (3, 1 / 63)]
