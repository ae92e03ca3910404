"""The models a graph run uses: those its configuration names, else those the settings name."""

from apps.documents import embedding
from apps.rag.configuration import RagConfiguration


def provider_for(configuration: RagConfiguration):
    from apps.rag.providers import provider_from_settings

    return configuration.provider or provider_from_settings()


def embedder_for(configuration: RagConfiguration) -> embedding.Embedder:
    return configuration.embedder or embedding.embedder()


def reranker_for(configuration: RagConfiguration):
    """The reranker, or None when there is none (the fused order then passes through)."""
    if not configuration.use_reranker:
        return None
    if configuration.reranker is not None:
        return configuration.reranker
    from apps.rag.reranking import reranker_from_settings

    return reranker_from_settings()
