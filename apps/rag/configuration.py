"""Everything the graph's nodes use comes in here, so a test or a caller can swap any of it."""

from dataclasses import dataclass
from typing import Any


@dataclass(kw_only=True)
class RagConfiguration:
    # Components; None means "as configured in settings" (see apps.rag.components).
    provider: Any = None  # a GenerationProvider
    embedder: Any = None  # an apps.documents.embedding.Embedder
    reranker: Any = None  # an apps.rag.reranking.Reranker; None: the configured one, if any
    use_reranker: bool = True

    # rewrite
    rewrite: bool = True
    n_queries: int = 3  # alternative phrasings besides the question itself

    # retrieve: hybrid search per query, fused by weighted reciprocal rank.
    # Dense weighs more: on conversational, paraphrased questions equal weights lost to dense alone.
    retrieve_k: int = 20
    dense_weight: float = 1.0
    lexical_weight: float = 0.5

    # rerank
    final_k: int = 5
    # Below this, nothing retrieved counts as relevant and the twin says its sources don't cover it:
    # a cross-encoder probability with a reranker, else the best cosine similarity.
    relevance_threshold: float = 0.25

    # generate
    max_tokens: int = 256
    temperature: float = 0.0
