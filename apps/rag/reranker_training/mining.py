"""Hard negatives mined by retrieval: what the twin's own search ranks high for a question, from other documents.

These are exactly the candidates the rerank node must learn to push below the right passage. Chunks of the
question's own document are never negatives: a neighbouring section may well answer the question too.
"""

from collections.abc import Collection, Sequence

from tqdm.auto import tqdm

from apps.documents.embedding import Embedder
from apps.documents.selectors import chunk_search
from apps.rag.configuration import RagConfiguration
from apps.rag.reranker_training.pairs import MinedQuestion
from apps.rag.reranker_training.questions import PseudoQuestion

SEARCH_POOL = 50  # hits per question: enough to find negatives past a long document's own chunks


def hard_negatives_mine(
    questions: Sequence[PseudoQuestion],
    *,
    embedder: Embedder,
    count: int,
    excluded_documents: Collection[int] = (),
    show_progress: bool = False,
) -> list[MinedQuestion]:
    """Each question with the ``count`` best-ranked chunks of other documents (not of ``excluded_documents``).

    The search is the graph's own: hybrid dense + full-text, fused with the graph's default weights.
    Questions for which retrieval finds no negative at all are dropped.
    """
    weights = RagConfiguration()
    vectors = embedder.encode([question.query for question in questions])
    mined = []
    for question, vector in tqdm(
        list(zip(questions, vectors, strict=True)), desc="Mining hard negatives", disable=not show_progress
    ):
        hits = chunk_search(
            embedding=vector,
            query_text=question.query,
            k=SEARCH_POOL,
            model_id=embedder.model_id,
            dense_weight=weights.dense_weight,
            lexical_weight=weights.lexical_weight,
        )
        negatives = [
            hit.chunk_id
            for hit in hits
            if hit.document_id != question.document_id and hit.document_id not in excluded_documents
        ][:count]
        if negatives:
            mined.append(MinedQuestion(question, tuple(negatives)))
    return mined
