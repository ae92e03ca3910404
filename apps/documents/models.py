"""What was written (Document) and the retrievable pieces of it (Chunk)."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from pgvector.django import HnswIndex, VectorField

EMBEDDING_DIMENSIONS = 384  # all-MiniLM-L6-v2
SEARCH_CONFIG = "english"


class Document(models.Model):
    class Curation(models.TextChoices):
        INCLUDED = "included", "Included"
        EXCLUDED = "excluded", "Excluded"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be processed"
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Near-duplicate of another document"
        FAILED = "failed", "Processing failed"

    class ContentType(models.TextChoices):
        ARTICLE = "article", "Article"
        POST = "post", "Post"
        CODE = "code", "Code"

    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="documents")
    author = models.ForeignKey("sources.Author", on_delete=models.CASCADE, related_name="documents")
    url = models.CharField(max_length=2000)
    title = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    raw_content = models.TextField(blank=True)
    clean_text = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the cleaned text.")
    metadata = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=16, blank=True)
    curation_state = models.CharField(max_length=10, choices=Curation.choices, default=Curation.INCLUDED)
    exclusion_reason = models.CharField(max_length=500, blank=True)
    # Processing: a new or changed document is PENDING until it is chunked (then embedded).
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    processing_error = models.TextField(blank=True)
    content_type = models.CharField(max_length=10, choices=ContentType.choices, default=ContentType.ARTICLE)
    gone_at = models.DateTimeField(null=True, blank=True, help_text="When the crawler found it removed upstream.")
    # What a re-crawl needs to skip an unchanged page: the HTTP validators of the copy held, and the date the
    # source lists it with (sitemap lastmod, feed entry date), as the source wrote it.
    http_etag = models.CharField(max_length=500, blank=True)
    http_last_modified = models.CharField(max_length=100, blank=True)
    listed_at = models.CharField(max_length=100, blank=True)
    # Near-duplicates (the same post syndicated elsewhere) point at the first copy and are not embedded.
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    minhash = models.JSONField(default=list, blank=True, help_text="MinHash signature of the cleaned text.")
    minhash_bands = ArrayField(models.BigIntegerField(), default=list, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["source", "url"], name="document_unique_source_url")]
        indexes = [
            models.Index(fields=["author", "curation_state"]),
            models.Index(fields=["status"]),
            GinIndex(fields=["minhash_bands"], name="document_minhash_bands_gin"),
        ]

    def __str__(self) -> str:
        return self.title or self.url

    @property
    def is_gone(self) -> bool:
        return self.gone_at is not None

    def clean(self) -> None:
        if self.curation_state == self.Curation.EXCLUDED and not self.exclusion_reason.strip():
            raise ValidationError({"exclusion_reason": "Say why the document is excluded."})


class Chunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    # The document's author, copied by triggers (migration 0002) on insert and whenever the document's
    # author changes, so it can never drift. It is here for search: a per-author HNSW index
    # (search/author_indexes.py) can only be a partial index on a column of this table.
    author_id = models.BigIntegerField(null=True, editable=False)
    ordinal = models.PositiveIntegerField(help_text="Position of the chunk in its document, from 0.")
    text = models.TextField()
    token_count = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    embedding_model = models.CharField(max_length=200, blank=True, help_text="Id of the model that embedded it.")
    # Kept by PostgreSQL itself, so full-text search can never drift from the text.
    search_vector = models.GeneratedField(
        expression=SearchVector("text", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document_id", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["document", "ordinal"], name="chunk_unique_document_ordinal")]
        indexes = [
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_vector"], name="chunk_search_vector_gin"),
            models.Index(fields=["embedding_model"], name="chunk_embedding_model"),
            models.Index(fields=["author_id"], name="chunk_author"),
            models.Index(fields=["id"], condition=models.Q(embedding__isnull=True), name="chunk_unembedded"),
        ]

    def __str__(self) -> str:
        return f"{self.document} #{self.ordinal}"
