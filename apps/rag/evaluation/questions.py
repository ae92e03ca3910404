"""Evaluation questions: from a JSONL file, or made from held-out chunks of the corpus.

Each line of a file: {"question": "...", "reference_answer": "...", "reference_document": "URL or title",
"answerable": true}. A question needs a reference answer or a reference document unless it is marked
unanswerable (the corpus cannot answer it: the twin should say its sources don't cover it).
"""

import json
import random
from dataclasses import dataclass
from pathlib import Path

from apps.documents.models import Document
from apps.rag.reranker_training.corpus import retrievable_chunks
from apps.rag.reranker_training.questions import chunk_questions
from lib.errors import TwinsiteError

# Asked of every generated set: no personal corpus answers these, so the twin should decline.
UNANSWERABLE = [
    "What is the melting point of tungsten in kelvin?",
    "Who won the football world cup in 1954?",
    "What is the airspeed of an unladen swallow in km/h?",
]


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    reference_answer: str = ""
    reference_document: str = ""  # a document URL or title
    answerable: bool = True


def questions_load(path: Path) -> list[EvalQuestion]:
    """Questions from a JSONL file; a bad line is an error naming the line and the field."""
    if not path.is_file():
        raise TwinsiteError(f"questions: {path} is not a file.")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TwinsiteError(f"questions line {number}: not JSON ({exc.msg}).") from exc
        if not isinstance(item, dict) or not str(item.get("question", "")).strip():
            raise TwinsiteError(f"questions line {number}: field 'question' is missing or empty.")
        answerable = item.get("answerable", True)
        if not isinstance(answerable, bool):
            raise TwinsiteError(f"questions line {number}: field 'answerable' must be true or false.")
        reference_answer = str(item.get("reference_answer") or "")
        reference_document = str(item.get("reference_document") or "")
        if answerable and not (reference_answer or reference_document):
            raise TwinsiteError(
                f"questions line {number}: an answerable question needs 'reference_answer' or 'reference_document'."
            )
        questions.append(EvalQuestion(item["question"].strip(), reference_answer, reference_document, answerable))
    if not questions:
        raise TwinsiteError(f"questions: {path} has no questions.")
    return questions


def questions_generate(*, model_id: str, author_id: int | None, limit: int, seed: int = 0) -> list[EvalQuestion]:
    """A sentence of each of ``limit`` random chunks, asked as a question; its chunk is the reference."""
    chunks = retrievable_chunks(model_id=model_id)
    if author_id is not None:
        theirs = set(Document.objects.filter(author_id=author_id).values_list("pk", flat=True))
        chunks = [c for c in chunks if c.document_id in theirs]
    random.Random(seed).shuffle(chunks)  # noqa: S311 - a reproducible sample, not a secret
    urls = dict(Document.objects.filter(pk__in={c.document_id for c in chunks}).values_list("pk", "url"))
    questions: list[EvalQuestion] = []
    for chunk in chunks:
        made = chunk_questions(
            text=chunk.text, chunk_id=chunk.chunk_id, document_id=chunk.document_id, seed=seed, limit=1
        )
        if made:
            questions.append(EvalQuestion(made[0].query + "?", chunk.text, urls[chunk.document_id]))
        if len(questions) >= limit:
            break
    if not questions:
        raise TwinsiteError("There are no retrievable chunks to make questions from: crawl and embed some first.")
    return questions + [EvalQuestion(q, answerable=False) for q in UNANSWERABLE]
