"""The models and modes a graph run uses: those its configuration names, else those the settings name."""

from django.conf import settings

from apps.documents import embedding
from apps.rag.configuration import RagConfiguration
from apps.rag.grounding import SupportScorer


def provider_for(configuration: RagConfiguration):
    from apps.rag.providers import provider_from_settings

    return configuration.provider or provider_from_settings()


def provider_name(configuration: RagConfiguration) -> str:
    """The provider's kind ("local", "tgi", "openai", or a test's), without loading a model to learn it."""
    if configuration.provider is not None:
        return configuration.provider.name
    return getattr(settings, "LLM_PROVIDER", "local")


def answering_model(state: dict, configuration: RagConfiguration) -> tuple[str, str]:
    """Who answers this run: the adapter of its one author (self-query, or the /v1 model id twin-<slug>) where
    they have one, else "" (the all-authors model); and the name of what answers (the provider's ``served``),
    which the trace records and auto mode judges the record of."""
    from apps.rag.providers import twin_adapter

    provider = provider_for(configuration)
    author_ids = (state.get("filters") or {}).get("author_ids")
    adapter = twin_adapter(author_ids=author_ids, provider=provider_name(configuration))
    return adapter, provider.served(adapter) if hasattr(provider, "served") else provider.model


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


def answer_mode_for(configuration: RagConfiguration) -> str:
    return configuration.answer_mode or getattr(settings, "RAG_ANSWER_MODE", "auto") or "auto"


def expansion_for(configuration: RagConfiguration) -> str:
    return configuration.expansion or getattr(settings, "RAG_EXPANSION", "auto") or "auto"


def scorer_for(configuration: RagConfiguration) -> SupportScorer:
    """The sentence-support scorer of the groundedness check (and of evaluate_rag's faithfulness)."""
    encode = None if configuration.support_method == "lexical" else embedder_for(configuration).encode
    return SupportScorer(
        method=configuration.support_method, encode=encode, semantic_weight=configuration.support_semantic_weight
    )
