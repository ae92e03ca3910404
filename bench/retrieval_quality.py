"""Retrieval quality on a real FAQ, with an ablation of where conversational questions get lost.

Ingests the Debian FAQ fixture (tests/fixtures/faq/debian-faq: 16 chapters, 120 questions of its own
with reference answers, and each asked again the way a user would: ``short`` and ``chatty`` (several
sentences of context), each split tune/report) through the real pipeline
(extract, clean, chunk, embed into a throw-away embedded PostgreSQL), then asks every question through
``chunk_search`` and through the search graph (the ``/api/v1/search`` path) and reports, per question
set: hit@1, hit@5 (a top-5 chunk of the reference page shares a run of 10 words with the reference
answer), page hit@5 and MRR@10.

The ablation changes one thing at a time against the pipeline as configured, on the same chunks in the
same database (the chunk rows are replaced for each variant):
- chunks: size and overlap, simple heading-aware windows of <= 200 words;
- what is embedded with a chunk: its heading path (as stored), the section heading only, nothing, the
  page title;
- the question: as typed, conversational filler stripped, pseudo-relevance feedback (Rocchio) on the
  query vector, HyDE with the packaged SmolLM2 (``--hyde``: minutes on a CPU);
- fusion: lexical weight 0, 0.25, 0.5, 1;
- spreading: how many chunks of one section (same page, same headings) may lead the ranking before the
  rest of that section counts a tenth (chunk_search's ``per_section``: None, 1, 2).
Choices are made on the ``tune`` half of the conversational set and read on the ``report`` half.
No reranker is packaged (the one train_reranker tunes lost on held-out documents), so none is measured.

    .venv/bin/python bench/retrieval_quality.py [--hyde] [--skip-ablation]

Prints one JSON object. Not part of the test suite.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "faq" / "debian-faq"
BASE_URL = "https://faq.example/"
SHINGLE = 10  # words a top chunk must share, in a row, with the reference answer to count as the answer
TOP = 5
WORD = re.compile(r"\w+")
PER_SECTION = 1  # chunk_search's default


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    page: str
    answer_shingles: frozenset[tuple[str, ...]]


def shingles(text: str, size: int) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    size = min(size, len(words))
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def load_questions() -> dict[str, list[Question]]:
    own = [json.loads(line) for line in (FIXTURE / "questions.jsonl").open()]
    answers = {item["id"]: frozenset(shingles(item["reference_answer"], SHINGLE)) for item in own}
    sets: dict[str, list[Question]] = {"faq_own_words": []}
    for item in own:
        sets["faq_own_words"].append(
            Question(item["id"], item["question"], item["reference_page"], answers[item["id"]])
        )
    for line in (FIXTURE / "conversational.jsonl").open():
        item = json.loads(line)
        question = Question(item["id"], item["question"], item["reference_page"], answers[item["id"]])
        sets.setdefault(f"{item['style']}_{item['split']}", []).append(question)
    return sets


def setup_django(data_dir: str) -> None:
    os.environ.update(DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="twinsite.settings", LOG_LEVEL="WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    from twinsite.env import embedded_start

    embedded_start()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ingest() -> float:
    """The fixture's pages through extract, clean, upsert, chunk and embed, as a crawl would. Seconds."""
    from apps.documents.crawled import CrawledDocument
    from apps.documents.services import chunks_embed_pending, document_process, document_upsert
    from apps.sources.crawlers.extract import extract_article
    from apps.sources.models import Author, Source

    author = Author.objects.create(name="Debian FAQ authors")
    source = Source.objects.create(author=author, kind="site", url=BASE_URL)
    started = time.perf_counter()
    for path in sorted((FIXTURE / "pages").glob("*.html")):
        page = extract_article(path.read_text(), url=BASE_URL + path.name)
        crawled = CrawledDocument(url=BASE_URL + path.name, text=page.text, title=page.title, raw_content="")
        document, _ = document_upsert(source=source, crawled=crawled)
        document_process(document_id=document.pk)
    chunks_embed_pending()
    return time.perf_counter() - started


# --- what a chunk is and what of it is embedded -------------------------------------------------------


def split_prefix(text: str) -> tuple[list[str], str]:
    """A stored chunk's heading lines and its body (chunking puts the headings first, then a blank line)."""
    lines = text.split("\n")
    headings = []
    while lines and lines[0].startswith("#"):
        headings.append(lines.pop(0))
    if headings and lines and not lines[0].strip():
        lines.pop(0)
    return headings, "\n".join(lines)


def heading_title(line: str) -> str:
    return line.lstrip("#").strip()


def embed_text(text: str, title: str, how: str) -> str:
    headings, body = split_prefix(text)
    if how == "as_stored" or not headings:
        return text if how == "as_stored" else (f"{title}\n\n{body}" if how == "title_body" else body)
    if how == "body":
        return body
    if how == "section_heading":
        return f"{heading_title(headings[-1])}\n\n{body}"
    if how == "heading_path_plain":
        return " > ".join(heading_title(h) for h in headings) + f"\n\n{body}"
    if how == "title_body":
        return f"{title}\n\n{body}"
    raise ValueError(how)


def word_windows(clean_text: str, max_words: int) -> list[str]:
    """Simple heading-aware windows: each section's paragraphs packed up to max_words, section heading first."""
    chunks, heading, paragraphs = [], "", []

    def flush() -> None:
        window: list[str] = []
        for paragraph in paragraphs:
            words = paragraph.split()
            while words:
                room = max_words - sum(len(p.split()) for p in window)
                if room <= 0 or (window and len(words) > room):
                    chunks.append("\n\n".join([heading, *window] if heading else window))
                    window, room = [], max_words
                window.append(" ".join(words[:room]))
                words = words[room:]
        if window:
            chunks.append("\n\n".join([heading, *window] if heading else window))
        paragraphs.clear()

    for block in re.split(r"\n\s*\n", clean_text):
        if block.startswith("#"):
            flush()
            heading = block.strip().split("\n")[-1]
        elif block.strip():
            paragraphs.append(block.strip())
    flush()
    return chunks


def stored_documents() -> list[tuple[int, str, str]]:
    from apps.documents.models import Document

    return list(Document.objects.order_by("pk").values_list("pk", "title", "clean_text"))


def variant_chunks(how: str, documents) -> list[tuple[int, str]]:
    """(document id, chunk text) of a chunking variant over the stored documents' cleaned text."""
    from apps.documents.embedding import chunk_token_counter
    from lib.text.chunking import ChunkParams, chunk_text

    sizes = {
        "tokens_96": ChunkParams(96, 16, 8),
        "tokens_128": ChunkParams(128, 16, 8),
        "tokens_200_no_overlap": ChunkParams(200, 0, 24),
        "tokens_254": ChunkParams(254, 32, 24),
    }
    out = []
    for document_id, _, text in documents:
        if how in sizes:
            pieces = chunk_text(text, params=sizes[how], counter=chunk_token_counter())
            out += [(document_id, chunk.text) for chunk in pieces]
        elif how.startswith("words_"):
            out += [(document_id, chunk) for chunk in word_windows(text, int(how.split("_")[1]))]
        else:
            raise ValueError(how)
    return out


def replace_chunks(rows: list[tuple[int, str]], embedded: list[str]) -> None:
    """Swap the chunk rows for a variant's (text for full-text search, ``embedded`` for the vector)."""
    from apps.documents.embedding import embedder
    from apps.documents.models import Chunk
    from lib.text.cleaning import content_hash

    model = embedder()
    vectors = model.encode(embedded)
    Chunk.objects.all().delete()
    ordinals: dict[int, int] = {}
    chunks = []
    for (document_id, text), vector in zip(rows, vectors, strict=True):
        ordinal = ordinals[document_id] = ordinals.get(document_id, -1) + 1
        chunks.append(
            Chunk(document_id=document_id, ordinal=ordinal, text=text, token_count=len(text.split()),
                  content_hash=content_hash(text), embedding=vector, embedding_model=model.model_id)
        )  # fmt: skip
    Chunk.objects.bulk_create(chunks)


def reembed_stored(how: str, titles: dict[int, str]) -> None:
    from apps.documents.models import Chunk

    rows = list(Chunk.objects.order_by("document_id", "ordinal").values_list("document_id", "text"))
    replace_chunks(rows, [embed_text(text, titles[document_id], how) for document_id, text in rows])


# --- the question -------------------------------------------------------------------------------------

FILLER = re.compile(
    r"^(?:(?:hey|hi|so|ok(?:ay)?|well|um+|dumb question(?: but)?|quick question|just|please|i'?m (?:lost|confused)"
    r"|can (?:someone|somebody|you) (?:explain|tell me)(?: in plain terms)?|bottom line|any (?:ideas|suggestions))"
    r"[\s,.:;!-]*)+",
    re.IGNORECASE,
)


def strip_filler(question: str) -> str:
    stripped = FILLER.sub("", question.strip())
    return stripped if len(stripped.split()) >= 2 else question


SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def sentences(question: str) -> list[str]:
    """The message's sentences of three words or more; one sentence: the message itself."""
    parts = [part for part in SENTENCE_END.split(question.strip()) if len(part.split()) >= 3]
    return parts if len(parts) > 1 else []


def asked_sentence(question: str) -> str:
    """The last sentence that asks something (ends in "?"), else the message."""
    asked = [part for part in SENTENCE_END.split(question.strip()) if part.endswith("?")]
    return asked[-1] if asked and len(asked[-1].split()) >= 3 else question


def hyde_answers(questions: list[str]) -> list[str]:
    """A short hypothetical answer per question from the packaged SmolLM2 (greedy)."""
    from apps.rag.providers import provider_from_settings
    from apps.rag.providers.base import ChatMessage, GenerationParams

    provider = provider_from_settings()
    system = ChatMessage("system", "Answer in two sentences about Debian GNU/Linux.")
    params = GenerationParams(max_tokens=48)
    return [provider.generate([system, ChatMessage("user", question)], params).text for question in questions]


# --- measuring ----------------------------------------------------------------------------------------


def chunk_index() -> dict[int, tuple[str, set, str]]:
    """Chunk id -> (page, word shingles, section: page and heading lines)."""
    from apps.documents.models import Chunk

    index = {}
    for pk, url, text in Chunk.objects.values_list("pk", "document__url", "text"):
        page = url.removeprefix(BASE_URL)
        index[pk] = (page, shingles(text, SHINGLE), page + "\n".join(split_prefix(text)[0]))
    return index


def answers(question: Question, chunk: tuple[str, set]) -> bool:
    page, chunk_shingles, _ = chunk
    return page == question.page and not question.answer_shingles.isdisjoint(chunk_shingles)


def score(questions: list[Question], rankings: list[list[int]], index) -> dict:
    first_hits = []
    pages = []
    for question, ranking in zip(questions, rankings, strict=True):
        rank = next((n for n, pk in enumerate(ranking[:10], 1) if answers(question, index[pk])), None)
        first_hits.append(rank)
        pages.append(any(index[pk][0] == question.page for pk in ranking[:TOP]))
    n = len(questions)
    return {
        "hit_at_1": round(sum(r == 1 for r in first_hits) / n, 3),
        "hit_at_5": round(sum(r is not None and r <= TOP for r in first_hits) / n, 3),
        "page_hit_at_5": round(sum(pages) / n, 3),
        "mrr_at_10": round(statistics.fmean(1 / r if r else 0.0 for r in first_hits), 3),
        "missed": [q.id for q, r in zip(questions, first_hits, strict=True) if r is None or r > TOP],
    }


def search_rankings(texts, vectors, *, lexical_weight: float, per_section=PER_SECTION, k: int = 20) -> list[list[int]]:
    from apps.documents.embedding import embedder
    from apps.documents.selectors import chunk_search

    model_id = embedder().model_id
    return [
        [hit.chunk_id for hit in chunk_search(embedding=vector, query_text=text, k=k, model_id=model_id,
                                              dense_weight=1.0, lexical_weight=lexical_weight, per_section=per_section)]
        for text, vector in zip(texts, vectors, strict=True)
    ]  # fmt: skip


def rocchio(vectors, *, top: int = 3, weight: float = 0.5):
    """The query vector moved towards the mean of its top dense hits (pseudo-relevance feedback)."""
    import numpy as np

    from apps.documents.embedding import embedder
    from apps.documents.selectors import chunk_dense_search

    moved = []
    for vector in vectors:
        ids = [pk for pk, _ in chunk_dense_search(embedding=vector, k=top, model_id=embedder().model_id)]
        from apps.documents.models import Chunk

        neighbours = np.array([list(v) for v in Chunk.objects.filter(pk__in=ids).values_list("embedding", flat=True)])
        point = np.asarray(vector) + weight * neighbours.mean(axis=0)
        moved.append((point / np.linalg.norm(point)).tolist())
    return moved


def fused_rankings(groups: list[list[str]], *, lexical_weight: float) -> list[list[int]]:
    """Each question asked as several texts (the whole message, then its sentences), fused as the retrieve
    node fuses several queries: by the sum of each text's RRF scores."""
    from apps.documents.embedding import embedder
    from apps.documents.selectors import chunk_search

    model = embedder()
    rankings = []
    for texts in groups:
        scores: dict[int, float] = {}
        for text, vector in zip(texts, model.encode(texts), strict=True):
            for hit in chunk_search(embedding=vector, query_text=text, k=20, model_id=model.model_id,
                                    lexical_weight=lexical_weight):  # fmt: skip
                scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + hit.score
        rankings.append(sorted(scores, key=lambda pk: (-scores[pk], pk)))
    return rankings


def evaluate(
    sets: dict[str, list[Question]], *, lexical_weight: float, query: str = "raw", hyde=None, per_section=PER_SECTION
) -> dict:
    from apps.documents.embedding import embedder

    index = chunk_index()
    result = {"chunks": len(index)}
    for name, questions in sets.items():
        texts = [q.text for q in questions]
        if query == "sentences":
            groups = [[text, *sentences(text)] for text in texts]
            result[name] = score(questions, fused_rankings(groups, lexical_weight=lexical_weight), index)
            continue
        if query == "asked_sentence":
            texts = [asked_sentence(t) for t in texts]
        if query == "strip_filler":
            texts = [strip_filler(t) for t in texts]
        embedded = texts
        if query == "hyde":
            embedded = [f"{t}\n{hyde[q.id]}" if q.id in hyde else t for t, q in zip(texts, questions, strict=True)]
        vectors = embedder().encode(embedded)
        if query == "rocchio":
            vectors = rocchio(vectors)
        rankings = search_rankings(texts, vectors, lexical_weight=lexical_weight, per_section=per_section)
        result[name] = score(questions, rankings, index)
    return result


def through_search_graph(sets: dict[str, list[Question]]) -> dict:
    """The /api/v1/search path: self_query, retrieve, rerank (none configured) of the search graph."""
    from asgiref.sync import async_to_sync

    from apps.rag.services import rag_search

    index = chunk_index()
    out = {}
    for name, questions in sets.items():
        rankings = [[hit["chunk_id"] for hit in async_to_sync(rag_search)(question=q.text).results] for q in questions]
        out[name] = score(questions, rankings, index)
    return out


def compact(result: dict) -> dict:
    """One line per variant: hit@5 per set, and the misses only where asked for."""
    return {
        name: value if not isinstance(value, dict) else {k: v for k, v in value.items() if k != "missed"}
        for name, value in result.items()
    }


def ablation(sets, documents, args) -> dict:
    from apps.rag.configuration import RagConfiguration

    lexical = RagConfiguration().lexical_weight
    titles = {document_id: title for document_id, title, _ in documents}
    out: dict[str, dict] = {"section_spreading": {}, "embedded_text": {}, "chunking": {}, "question": {}}
    out["fusion_lexical_weight"] = {}
    for per_section in (None, 1, 2):
        out["section_spreading"][str(per_section)] = compact(
            evaluate(sets, lexical_weight=lexical, per_section=per_section)
        )
    for how in ("as_stored", "heading_path_plain", "section_heading", "body", "title_body"):
        reembed_stored(how, titles)
        out["embedded_text"][how] = compact(evaluate(sets, lexical_weight=lexical))
    reembed_stored("as_stored", titles)
    for query in ("raw", "strip_filler", "asked_sentence", "sentences", "rocchio", *(["hyde"] if args.hyde else [])):
        hyde = None
        if query == "hyde":
            wanted = [q for name, qs in sets.items() if name != "faq_own_words" for q in qs]
            hyde = dict(zip([q.id for q in wanted], hyde_answers([q.text for q in wanted]), strict=True))
        out["question"][query] = compact(evaluate(sets, lexical_weight=lexical, query=query, hyde=hyde))
    for weight in (0.0, 0.25, 0.5, 1.0):
        out["fusion_lexical_weight"][str(weight)] = compact(evaluate(sets, lexical_weight=weight))
    for how in ("tokens_96", "tokens_128", "tokens_200_no_overlap", "tokens_254", "words_120", "words_200"):
        rows = variant_chunks(how, documents)
        replace_chunks(rows, [text for _, text in rows])
        out["chunking"][how] = compact(evaluate(sets, lexical_weight=lexical))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hyde", action="store_true", help="also HyDE with the packaged SmolLM2 (slow on a CPU)")
    parser.add_argument("--skip-ablation", action="store_true", help="only the pipeline as configured")
    parser.add_argument("--only-question", help="only these question handlings, comma-separated (tuning)")
    args = parser.parse_args()
    sets = load_questions()
    data_dir = tempfile.mkdtemp(prefix="twq-", dir="/tmp")
    try:
        setup_django(data_dir)
        from apps.documents.embedding import embedder
        from apps.rag.configuration import RagConfiguration

        embedder()
        ingest_s = ingest()
        configuration = RagConfiguration()
        result = {
            "pipeline": {
                "chunk_search": evaluate(sets, lexical_weight=configuration.lexical_weight),
                **({} if args.only_question else {"search_graph": through_search_graph(sets)}),
                "ingest_s": round(ingest_s, 2),
            }
        }
        if args.only_question:
            result["question"] = {
                query: compact(evaluate(sets, lexical_weight=configuration.lexical_weight, query=query))
                for query in args.only_question.split(",")
            }
        elif not args.skip_ablation:
            result["ablation"] = ablation(sets, stored_documents(), args)
    finally:
        from apps.core import embedded

        embedded.stop_all(Path(data_dir))
        shutil.rmtree(data_dir, ignore_errors=True)
    result["settings"] = {
        "questions": {name: len(questions) for name, questions in sets.items()},
        "hit": f"a top-{TOP} chunk of the reference page sharing {SHINGLE} words in a row with the reference answer",
        "reranker": "none: none is packaged",
        "embedding_model": embedder().model_id,
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
