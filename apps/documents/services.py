"""Writes to documents and chunks: curation, upsert from a crawl, processing and embedding."""

from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.tasks import task_send
from apps.documents import embedding
from apps.documents.crawled import CrawledDocument
from apps.documents.models import Chunk, Document
from apps.documents.search.author_indexes import chunk_author_indexes_sync  # noqa: F401 - a write, kept by search/
from apps.documents.selectors import chunks_needing_embedding
from lib.errors import TwinsiteError
from lib.text.chunking import chunk_text
from lib.text.cleaning import clean_text, content_hash
from lib.text.dedup import estimated_jaccard, lsh_bands, minhash_signature

# Chunks locked and encoded per transaction. They are taken longest first, so each encoder batch holds
# chunks of about one length: taken by id, the 512-row calls padded 3.2 % more tokens than the real
# ones on the ABS guide, in token_count order 0.5 %, as one call sorting everything does.
EMBED_ROWS_PER_TRANSACTION = 512


@transaction.atomic
def documents_curate(*, documents: QuerySet[Document], state: str, reason: str = "") -> int:
    """Include or exclude documents; an exclusion needs a reason. Returns how many changed."""
    reason = reason.strip()
    if state == Document.Curation.EXCLUDED and not reason:
        raise TwinsiteError("Say why the documents are excluded: the reason is required.")
    if state not in Document.Curation.values:
        raise TwinsiteError(f"Unknown curation state {state!r}.")
    return documents.update(
        curation_state=state, exclusion_reason=reason if state == Document.Curation.EXCLUDED else ""
    )


def document_upsert(
    *, source: models.Model, crawled: CrawledDocument, author: models.Model | None = None
) -> tuple[Document, str]:
    """Store what a crawler found: "new", "changed" or "unchanged" (same cleaned text: no work at all).

    ``source`` is the sources.Source row the document belongs to. ``author`` (a sources.Author): whom the
    document is by, when the source carries several people's writing (default: the source's author).
    """
    author = author or source.author
    text = clean_text(crawled.text)
    if not text.strip():
        raise TwinsiteError(f"{crawled.url}: no text could be extracted")
    digest = content_hash(text)
    fetch_state = {
        "http_etag": crawled.etag[:500],
        "http_last_modified": crawled.last_modified[:100],
        "listed_at": crawled.listed_at[:100],
    }
    existing = Document.objects.filter(source=source, url=crawled.url).first()
    if existing is not None and existing.content_hash == digest:
        # Same text: only what tells the next crawl how to skip it, and whose it is, may have moved.
        changes = {name: value for name, value in fetch_state.items() if getattr(existing, name) != value}
        if existing.author_id != author.pk:
            changes["author"] = author
        if existing.gone_at is not None:  # it came back upstream
            changes["gone_at"] = None
        if changes:
            Document.objects.filter(pk=existing.pk).update(**changes)
            for name, value in changes.items():
                setattr(existing, name, value)
        return existing, "unchanged"
    published_at = crawled.published_at
    if published_at is not None and timezone.is_naive(published_at):
        published_at = published_at.replace(tzinfo=UTC)
    metadata = dict(crawled.metadata)
    if crawled.author_name:
        metadata["stated_author"] = crawled.author_name
    document, created = Document.objects.update_or_create(
        source=source,
        url=crawled.url,
        defaults={
            "author": author,
            "title": crawled.title[:500],
            "published_at": published_at,
            "raw_content": crawled.raw_content,
            "clean_text": text,
            "content_hash": digest,
            "metadata": metadata,
            "language": crawled.language[:16],
            "content_type": crawled.content_type,
            "status": Document.Status.PENDING,
            "processing_error": "",
            "gone_at": None,
            **fetch_state,
        },
    )
    return document, "new" if created else "changed"


def documents_mark_gone(
    *, source: models.Model, keep_urls: set[str] | None = None, urls: set[str] | None = None
) -> int:
    """Mark documents removed upstream: those at ``urls``, or all of the source's but ``keep_urls``."""
    documents = Document.objects.filter(source=source, gone_at__isnull=True)
    documents = documents.filter(url__in=urls) if urls is not None else documents.exclude(url__in=keep_urls or ())
    return documents.update(gone_at=timezone.now())


def _near_duplicate_of(document: Document, signature: list[int], bands: list[int]) -> Document | None:
    candidates = (
        Document.objects.filter(author_id=document.author_id, minhash_bands__overlap=bands, duplicate_of__isnull=True)
        .exclude(pk=document.pk)
        .filter(status=Document.Status.PROCESSED)
        .order_by("created_at", "pk")
        .only("pk", "minhash")
    )
    for candidate in candidates:
        if estimated_jaccard(signature, candidate.minhash) >= settings.NEAR_DUPLICATE_THRESHOLD:
            return candidate
    return None


@dataclass(frozen=True)
class ProcessOutcome:
    status: str
    chunks: int = 0
    chunks_changed: int = 0  # chunks whose text changed (their embedding must be computed)
    duplicate_of: int | None = None


def document_process(*, document_id: int, force: bool = False) -> ProcessOutcome:
    """Chunk a pending document, reusing the embedding of every chunk whose text did not change.

    Near-duplicates of an earlier document by the same author are linked to it and get no chunks.
    Idempotent: a processed document is left alone unless ``force``.
    """
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document_id)
        if document.status != Document.Status.PENDING and not force:
            return ProcessOutcome(status=document.status, chunks=document.chunks.count())
        signature = minhash_signature(document.clean_text)
        bands = lsh_bands(signature)
        document.minhash, document.minhash_bands = signature, bands
        document.processed_at = timezone.now()
        document.processing_error = ""
        original = _near_duplicate_of(document, signature, bands)
        if original is not None:
            document.chunks.all().delete()
            document.duplicate_of, document.status = original, Document.Status.DUPLICATE
            document.save()
            return ProcessOutcome(status=document.status, duplicate_of=original.pk)

        pieces = chunk_text(document.clean_text, kind=document.content_type, counter=embedding.chunk_token_counter())
        existing = {chunk.ordinal: chunk for chunk in document.chunks.all()}
        current_model = embedding.model_id()
        reusable = {
            chunk.content_hash: chunk.embedding
            for chunk in existing.values()
            if chunk.embedding is not None and chunk.embedding_model == current_model
        }
        added: list[Chunk] = []
        changed = 0
        for piece in pieces:
            chunk = existing.get(piece.ordinal)
            if chunk is not None and chunk.content_hash == piece.content_hash:
                continue
            vector = reusable.get(piece.content_hash)
            chunk = chunk or Chunk(document=document, ordinal=piece.ordinal)
            chunk.text, chunk.token_count, chunk.content_hash = piece.text, piece.token_count, piece.content_hash
            chunk.embedding, chunk.embedding_model = vector, current_model if vector is not None else ""
            if chunk.pk:
                chunk.save()  # an edit touches a few chunks of a section
            else:
                added.append(chunk)
            changed += vector is None
        # One INSERT for a new document's chunks: one per chunk cost more than its chunking (ABS guide).
        Chunk.objects.bulk_create(added)
        document.chunks.filter(ordinal__gte=len(pieces)).delete()
        document.duplicate_of, document.status = None, Document.Status.PROCESSED
        document.save()
    return ProcessOutcome(status=document.status, chunks=len(pieces), chunks_changed=changed)


def document_process_failed(*, document_id: int, error: str) -> None:
    Document.objects.filter(pk=document_id).update(status=Document.Status.FAILED, processing_error=error[:2000])


def _store_vectors(chunk_ids: list[int], vectors: list[list[float]], *, model_id: str) -> None:
    """One UPDATE ... FROM (VALUES ...) for the batch: bulk_update's CASE per row costs more than encoding."""
    rows = ", ".join(["(%s, %s::vector)"] * len(chunk_ids))
    params: list = [model_id]
    vector_format = "[" + ",".join(["%.7g"] * len(vectors[0])) + "]"  # one C-level format per row
    for chunk_id, vector in zip(chunk_ids, vectors, strict=True):
        params += [chunk_id, vector_format % tuple(vector)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Chunk._meta.db_table} AS c SET embedding = v.embedding, embedding_model = %s "
            f"FROM (VALUES {rows}) AS v(id, embedding) WHERE c.id = v.id",
            params,
        )


def chunks_embed_pending(*, limit: int | None = None, progress=None) -> int:
    """Embed chunks that need it, in batches; safe to run in several workers at once. Returns the count."""
    model = embedding.embedder()
    done = 0
    while limit is None or done < limit:
        rows = EMBED_ROWS_PER_TRANSACTION if limit is None else min(EMBED_ROWS_PER_TRANSACTION, limit - done)
        with transaction.atomic():
            batch = list(
                chunks_needing_embedding()
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("-token_count", "id")[:rows]
            )
            if not batch:
                break
            vectors = model.encode([chunk.text for chunk in batch])
            _store_vectors([chunk.pk for chunk in batch], vectors, model_id=model.model_id)
        done += len(batch)
        if progress is not None:
            progress(len(batch))
    return done


@transaction.atomic
def documents_reprocess(*, documents: QuerySet[Document]) -> list[int]:
    """Queue documents to be chunked again (e.g. after a chunking change). Returns their ids."""
    ids = list(documents.values_list("pk", flat=True))
    Document.objects.filter(pk__in=ids).update(status=Document.Status.PENDING)
    for document_id in ids:
        task_send("workers.process.process_document", document_id)
    return ids
