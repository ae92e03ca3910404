"""Held-out evaluation: where the positive lands among its candidates in fused retrieval order and by a reranker.

A case's candidates are the passage the question came from (less that sentence) and the chunks retrieval
ranked highest from other documents. The fused order is computed over exactly these texts, with the
search's own scoring (cosine of MiniLM vectors; ``ts_rank_cd``; weighted RRF with the graph's weights):
ranking the stored chunk instead would let the copied sentence find its own source, which says nothing
about how well retrieval orders passages for a question. Candidates are shuffled (seeded) so that no
tie-break favours the positive.
"""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from apps.documents.embedding import Embedder
from apps.documents.search.fusion import reciprocal_rank_fusion
from apps.rag.configuration import RagConfiguration
from apps.rag.reranker_training.corpus import lexical_order
from apps.rag.reranker_training.pairs import MinedQuestion
from lib.metrics.ranking import order_by_scores, rank_of, ranking_metrics

RRF_K = 60  # chunk_search's default


@dataclass(frozen=True)
class EvaluationCase:
    query: str
    texts: tuple[str, ...]  # the candidates, shuffled
    positive: int  # position of the positive in texts
    fused_order: tuple[int, ...]  # positions in fused retrieval order, best first


def evaluation_cases(
    mined: Sequence[MinedQuestion], *, chunk_texts: Mapping[int, str], embedder: Embedder, seed: int
) -> list[EvaluationCase]:
    """One case per held-out question; ``chunk_texts`` are the negatives as shown (see questions.py)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    weights = RagConfiguration()
    negatives = [chunk_texts[c] for item in mined for c in item.hard_negatives]
    passages = list(dict.fromkeys([item.question.positive_text for item in mined] + negatives))
    passage_vectors = dict(zip(passages, embedder.encode(passages), strict=True))
    query_vectors = embedder.encode([item.question.query for item in mined])
    cases = []
    for item, query_vector in zip(mined, query_vectors, strict=True):
        candidates = [(item.question.positive_text, True)] + [(chunk_texts[c], False) for c in item.hard_negatives]
        rng.shuffle(candidates)
        texts = tuple(text for text, _ in candidates)
        similarities = [_dot(query_vector, passage_vectors[text]) for text in texts]
        fused = reciprocal_rank_fusion(
            dense=order_by_scores(similarities),
            lexical=lexical_order(query=item.question.query, texts=texts),
            dense_weight=weights.dense_weight,
            lexical_weight=weights.lexical_weight,
            rrf_k=RRF_K,
        )
        positive = next(n for n, (_, is_positive) in enumerate(candidates) if is_positive)
        cases.append(EvaluationCase(item.question.query, texts, positive, tuple(hit.chunk_id for hit in fused)))
    return cases


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))  # unit vectors: the cosine similarity


def fused_metrics(cases: Sequence[EvaluationCase]) -> dict[str, float | int]:
    return ranking_metrics([rank_of(case.fused_order, case.positive) for case in cases])


def reranker_metrics(model, cases: Sequence[EvaluationCase]) -> dict[str, float | int]:
    """The metrics when ``model`` (a sentence-transformers CrossEncoder) orders each case's candidates."""
    if not cases:
        return ranking_metrics([])
    pairs = [(case.query, text) for case in cases for text in case.texts]
    scores = [float(s) for s in model.predict(pairs, show_progress_bar=False)]
    ranks, start = [], 0
    for case in cases:
        ranks.append(rank_of(order_by_scores(scores[start : start + len(case.texts)]), case.positive))
        start += len(case.texts)
    return ranking_metrics(ranks)
