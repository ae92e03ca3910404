"""Held-out split by document, and the labelled (question, passage) pairs to train on (pure; no database)."""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from apps.rag.reranker_training.questions import PseudoQuestion


@dataclass(frozen=True)
class MinedQuestion:
    question: PseudoQuestion
    hard_negatives: tuple[int, ...]  # chunk ids of other documents, best retrieval rank first


@dataclass(frozen=True)
class TrainingPair:
    query: str
    passage: str
    label: float  # 1.0: the passage the question came from; 0.0: a negative


def documents_split(document_ids: Sequence[int], *, held_out_fraction: float, seed: int) -> tuple[set[int], set[int]]:
    """(training, held-out) documents: a seeded shuffle, at least one document on each side.

    Splitting by document, not by question, keeps a held-out question's passage and its neighbours in the
    same document out of training, as they would be for a question about writing the model never saw.
    """
    ordered = sorted(set(document_ids))
    random.Random(seed).shuffle(ordered)  # noqa: S311 - a reproducible split, not a secret
    held_out = min(max(1, round(len(ordered) * held_out_fraction)), len(ordered) - 1)
    return set(ordered[held_out:]), set(ordered[:held_out])


def training_pairs(
    mined: Sequence[MinedQuestion],
    *,
    chunk_texts: Mapping[int, str],
    chunk_documents: Mapping[int, int],
    random_negatives: int,
    max_pairs: int,
    seed: int,
) -> list[TrainingPair]:
    """For each question: its positive, its hard negatives and ``random_negatives`` random chunks of other
    documents (random ones keep easy cases in view, so scores stay calibrated far from the boundary).

    Questions are taken in a seeded order while their whole group fits within ``max_pairs``.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not a secret
    pool = sorted(chunk_texts)
    order = list(range(len(mined)))
    rng.shuffle(order)
    pairs: list[TrainingPair] = []
    for index in order:
        item = mined[index]
        taken = set(item.hard_negatives)
        others = [c for c in pool if chunk_documents[c] != item.question.document_id and c not in taken]
        negatives = [*item.hard_negatives, *rng.sample(others, min(random_negatives, len(others)))]
        if len(pairs) + 1 + len(negatives) > max_pairs:
            break
        pairs.append(TrainingPair(item.question.query, item.question.positive_text, 1.0))
        pairs.extend(TrainingPair(item.question.query, chunk_texts[c], 0.0) for c in negatives)
    return pairs
