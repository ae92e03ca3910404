"""Curated documents with chunks, made directly in the database (the crawl is tested elsewhere)."""

from apps.documents.models import Document
from tests.factories import make_author, make_chunk, make_document, make_source

PASSAGES = [
    "Every night a cron job runs pg_dump against the replica, never the primary, so backups never slow down the "
    "users. The dump is compressed with zstd and copied to object storage in another region.",
    "I feed the starter with equal weights of rye flour and water every evening, and it doubles by morning when "
    "the kitchen stays warm. The dough rests for an hour after mixing before I add the salt.",
    "The Stelvio pass has forty-eight hairpin bends on its eastern side, and I climbed it in a little under three "
    "hours with a compact crank and a generous cassette at the back of the bike.",
]


def make_corpus(passages: list[str] = PASSAGES, *, author=None, language: str = "en") -> list[Document]:
    """One processed, included document per passage, each a single chunk (so one extract each)."""
    source = make_source(author=author or make_author(name="Ada Example"))
    documents = []
    for passage in passages:
        document = make_document(source=source, text=passage, status="processed", language=language)
        make_chunk(document=document, text=f"# {document.title}\n\n{passage}")
        documents.append(document)
    return documents
