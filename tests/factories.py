"""Small builders for the data model, with sensible defaults."""

import hashlib
import itertools

from apps.documents.models import Chunk, Document
from apps.sources.models import Author, Source

_seq = itertools.count(1)


def make_author(**fields) -> Author:
    n = next(_seq)
    return Author.objects.create(**{"name": f"Author {n}", **fields})


def make_source(*, author: Author | None = None, **fields) -> Source:
    n = next(_seq)
    return Source.objects.create(
        **{"author": author or make_author(), "kind": Source.Kind.ARTICLE, "url": f"https://blog.example/{n}", **fields}
    )


def make_document(*, source: Source | None = None, text: str = "Some writing.", **fields) -> Document:
    source = source or make_source()
    n = next(_seq)
    return Document.objects.create(
        **{
            "source": source,
            "author": source.author,
            "url": f"{source.url}/post-{n}",
            "title": f"Post {n}",
            "clean_text": text,
            "content_hash": hashlib.sha256(text.encode()).hexdigest(),
            **fields,
        }
    )


def make_chunk(*, document: Document | None = None, text: str = "A chunk of text.", **fields) -> Chunk:
    document = document or make_document()
    return Chunk.objects.create(
        **{
            "document": document,
            "ordinal": document.chunks.count(),
            "text": text,
            "token_count": len(text.split()),
            "content_hash": hashlib.sha256(text.encode()).hexdigest(),
            **fields,
        }
    )
