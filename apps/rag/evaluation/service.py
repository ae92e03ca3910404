"""Run an evaluation: answer each question through the graph, score it, store the run with its configuration."""

import dataclasses
import time
from collections.abc import Callable

from apps.documents.models import Chunk
from apps.monitoring.models import EvalRun
from apps.monitoring.services import eval_run_finish, eval_run_start
from apps.rag.components import embedder_for, provider_for, scorer_for
from apps.rag.configuration import RagConfiguration
from apps.rag.evaluation.judge import judge
from apps.rag.evaluation.metrics import carried, document_matches, reciprocal_rank, summarize
from apps.rag.evaluation.questions import EvalQuestion
from apps.rag.faithfulness import answer_faithfulness
from apps.rag.services import RagAnswer, rag_answer

K = 5


def _contexts(result: RagAnswer) -> list[dict]:
    """The passages the answer was written from, numbered as the answer cites them."""
    if result.contexts:
        return result.contexts
    ids = next((s.get("chunk_ids") or [] for s in reversed(result.spans) if s["node"] in ("grade", "rerank")), [])
    chunks = Chunk.objects.select_related("document").in_bulk(ids)
    return [
        {
            "n": n,
            "chunk_id": i,
            "text": chunks[i].text,
            "url": chunks[i].document.url,
            "title": chunks[i].document.title,
        }
        for n, i in enumerate(ids, start=1)
        if i in chunks
    ]


def item_score(question: EvalQuestion, result: RagAnswer, configuration: RagConfiguration, *, total_ms: float) -> dict:
    contexts = _contexts(result)
    reference = question.reference_document
    hits = [document_matches(reference, url=c["url"], title=c["title"]) for c in contexts[:K]] if reference else []
    cited = [c for c in result.citations if c.get("cited")] or result.citations
    refused = result.answer_kind == "no_answer" or result.answer.startswith("My sources don't cover")
    faithfulness, sentences = (None, [])
    if question.answerable and not refused:
        passages = {c["n"]: c["text"] for c in contexts}
        faithfulness, sentences = answer_faithfulness(
            result.answer, passages, scorer_for(configuration), configuration.support_threshold
        )
    relevance = None
    if question.answerable:
        relevance = 0.0
        if not refused:
            vectors = embedder_for(configuration).encode([question.question, result.answer])
            relevance = round(sum(a * b for a, b in zip(vectors[0], vectors[1], strict=True)), 4)
    context_text = " ".join(c["text"] for c in contexts)
    return {
        "question": question.question,
        "answerable": question.answerable,
        "reference_answer": question.reference_answer,
        "reference_document": reference,
        "answer": result.answer,
        "answer_kind": result.answer_kind,
        "refused": refused,
        "hit": any(hits) if reference else None,
        "rr": reciprocal_rank(hits) if reference else None,
        "right_page_cited": any(document_matches(reference, url=c["document_url"], title=c["title"]) for c in cited)
        if reference
        else None,
        "context_precision": (sum(hits) / len(hits) if hits else 0.0) if reference else None,
        "context_recall": carried(question.reference_answer, context_text) if question.reference_answer else None,
        "faithfulness": faithfulness,
        "sentences": sentences,
        "answer_relevance": relevance,
        "reference_carried": carried(question.reference_answer, result.answer) if question.reference_answer else None,
        "timings_ms": result.timings_ms,
        "total_ms": round(total_ms, 1),
        "trace_id": result.trace_id,
    }


def _configuration_record(configuration: RagConfiguration) -> dict:
    skip = {"provider", "embedder", "reranker"}
    return {f.name: getattr(configuration, f.name) for f in dataclasses.fields(configuration) if f.name not in skip}


def rag_evaluate(
    *,
    questions: list[EvalQuestion],
    questions_source: str,
    author: str | None = None,
    configuration: RagConfiguration | None = None,
    judge_provider=None,
    name: str = "",
    on_item: Callable[[dict], None] | None = None,
) -> EvalRun:
    configuration = configuration or RagConfiguration()
    model = provider_for(configuration).model
    run = eval_run_start(
        name=name,
        author_name=author or "",
        questions_source=questions_source,
        model=model,
        configuration=_configuration_record(configuration) | {"judge": getattr(judge_provider, "model", None)},
    )
    items = []
    try:
        for question in questions:
            started = time.perf_counter()
            result = rag_answer(question=question.question, author=author, configuration=configuration, kind="eval")
            item = item_score(question, result, configuration, total_ms=(time.perf_counter() - started) * 1000)
            if judge_provider is not None and question.answerable and question.reference_answer:
                item["judge"] = judge(
                    judge_provider,
                    question=question.question,
                    reference=question.reference_answer,
                    answer=result.answer,
                )
            items.append(item)
            if on_item:
                on_item(item)
    except Exception as exc:
        eval_run_finish(run=run, metrics=summarize(items, k=K), items=items, error=f"{type(exc).__name__}: {exc}")
        raise
    return eval_run_finish(run=run, metrics=summarize(items, k=K), items=items)
