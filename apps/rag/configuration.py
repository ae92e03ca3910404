"""Everything the graph's nodes use comes in here, so a test or a caller can swap any of it."""

from dataclasses import dataclass
from typing import Any

ANSWER_MODES = ("auto", "generate", "extract")
EXPANSION_MODES = ("auto", "on", "off")


@dataclass(kw_only=True)
class RagConfiguration:
    # Components; None means "as configured in settings" (see apps.rag.components).
    provider: Any = None  # a GenerationProvider
    embedder: Any = None  # an apps.documents.embedding.Embedder
    reranker: Any = None  # an apps.rag.reranking.Reranker; None: the configured one, if any
    use_reranker: bool = True

    # route: greetings, thanks and questions about the twin are answered without retrieval.
    route: bool = True
    # expansion: "auto" asks for other phrasings only from providers whose phrasings can be trusted
    # (not the in-process local model, whose phrasings were answers and code); "on"/"off" force it.
    expansion: str = ""  # "" = settings.RAG_EXPANSION
    n_queries: int = 3  # alternative phrasings besides the question itself

    # retrieve: hybrid search per query, fused by weighted reciprocal rank.
    # Dense weighs more: on conversational, paraphrased questions equal weights lost to dense alone.
    retrieve_k: int = 20
    dense_weight: float = 1.0
    lexical_weight: float = 0.5

    # rerank and grade
    final_k: int = 5
    # The grade of a passage is a probability of relevance: the cross-encoder's with a reranker, else the
    # question-passage cosine through a logistic calibration. These constants are set by hand (p = 0.5 at
    # cosine 0.45) and not yet fitted: bench/rag_answers.py --calibrate prints a fit on the Debian FAQ.
    relevance_threshold: float = 0.5
    similarity_calibration: tuple[float, float] = (14.0, -6.3)  # p = sigmoid(a * cosine + b)
    corrective_rounds: int = 2  # reformulate and retrieve again at most this many more times

    # generate, with degeneration control (the chat template is left as it is)
    # "" = settings.RAG_ANSWER_MODE; "generate" | "extract" | "auto" (generate, extract when too little holds)
    answer_mode: str = ""
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0  # nucleus sampling, when temperature > 0
    repetition_penalty: float = 1.15
    no_repeat_ngram_size: int = 4
    stop: tuple[str, ...] = ("\n\n\n", "<source", "Question:", "Sources:")
    context_chars: int = 900  # of each passage shown to the model: a small model's prompt stays short

    # groundedness: each sentence against the passages it cites. Method and threshold chosen by
    # bench/groundedness.py (hybrid 0.5 let no unsupported sentence through and kept 0.91 of the supported).
    support_method: str = "hybrid"
    support_semantic_weight: float = 0.5
    support_threshold: float = 0.69
    min_supported_share: float = 0.5  # of the answer's sentences; less, and auto mode extracts
    min_supported_sentences: int = 1
    abort_after_unsupported: int = 2  # consecutive unsupported sentences end generation early
    # auto mode skips generation for a model whose recent checked answers mostly fell back to extracts
    track_record_answers: int = 10
    track_record_min_kept: float = 0.2
    track_record_retry_after: int = 50  # quoted answers, then the model is asked again so its record can recover
    extract_passages: int = 2  # quoted in an extractive answer, when they grade above the threshold
    # and within this many logits of the best passage's grade (a near tie, not merely relevant)
    extract_logit_margin: float = 1.0

    def __post_init__(self) -> None:
        if self.answer_mode and self.answer_mode not in ANSWER_MODES:
            raise ValueError(f"answer_mode must be one of {', '.join(ANSWER_MODES)}, not {self.answer_mode!r}")
        if self.expansion and self.expansion not in EXPANSION_MODES:
            raise ValueError(f"expansion must be one of {', '.join(EXPANSION_MODES)}, not {self.expansion!r}")
