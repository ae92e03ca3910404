"""Extracts: runs of consecutive chunks of one document, long enough to make a training sample of.

Chunks are sized for the embedding model (a few sentences, each starting with its heading lines
and repeating the end of the chunk before it), which is too little for a sample. An extract joins
consecutive chunks of one document back into the author's continuous text: heading prefixes and
overlaps are removed, a new section's heading is kept where it starts.
"""

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby

from apps.documents.models import Chunk, Document
from apps.sources.models import Author

TARGET_WORDS = 150  # an extract stops growing once it has this many words
MAX_WORDS = 300  # and never grows past this (a chunk alone is at most ~200 tokens)
MIN_WORDS = 40  # a document's last extract smaller than this joins the one before when it fits
MIN_SAMPLE_WORDS = 20  # an extract shorter than this (a caption, a link list) is too little to learn from

_HEADING_LINE = re.compile(r"^#{1,6}[ \t]+\S")
_MIN_OVERLAP_CHARS = 12  # shorter matches are chance, not the chunker's repeated sentences


@dataclass(frozen=True)
class ChunkPiece:
    id: int
    document_id: int
    text: str


@dataclass
class Extract:
    document_id: int
    chunk_ids: list[int] = field(default_factory=list)
    heading: str = ""  # the heading lines of its first chunk: context for a prompt, not part of the text
    text: str = ""

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def word_count(self) -> int:
        return len(self.text.split())


def split_heading(chunk_text: str) -> tuple[str, str]:
    """(heading lines, body) of a chunk: chunks start with the heading path of their section."""
    lines = chunk_text.split("\n")
    index = 0
    while index < len(lines) and _HEADING_LINE.match(lines[index]):
        index += 1
    return "\n".join(lines[:index]), "\n".join(lines[index:]).strip()


def _overlap(text: str, body: str) -> int:
    """Length of the longest start of body that text ends with: the chunker's repeated sentences."""
    for size in range(min(len(text), len(body)), _MIN_OVERLAP_CHARS - 1, -1):
        if text.endswith(body[:size]):
            return size
    return 0


def _append(extract: Extract, piece: ChunkPiece, previous: tuple[str, str] | None) -> None:
    """Add the piece's text; previous is the (heading, body) of the chunk before it in the document."""
    heading, body = split_heading(piece.text)
    if previous and previous[0] == heading:  # same section: drop the sentences repeated from the chunk before
        cut = _overlap(previous[1], body)
        if cut:
            rest = body[cut:]
            body = rest.lstrip()
            joiner = (rest[: len(rest) - len(body)] or " ") if extract.chunk_ids else ""
        else:
            joiner = "\n\n"
        if body:
            extract.text = f"{extract.text}{joiner}{body}" if extract.chunk_ids else body
    elif extract.chunk_ids:
        # A new section: its own heading (the last line of the path) opens it, as the author wrote it.
        title = heading.split("\n")[-1] if heading else ""
        extract.text = "\n\n".join(part for part in (extract.text, title, body) if part)
    else:
        extract.text = body
    if not extract.chunk_ids:
        extract.heading = heading
    extract.chunk_ids.append(piece.id)


def _words(piece: ChunkPiece) -> int:
    return len(split_heading(piece.text)[1].split())


def _groups(pieces: list[ChunkPiece], target_words: int, max_words: int, min_words: int) -> list[list[ChunkPiece]]:
    groups: list[list[ChunkPiece]] = []
    size = 0
    for piece in pieces:
        words = _words(piece)
        if not groups or size >= target_words or size + words > max_words:
            groups.append([])
            size = 0
        groups[-1].append(piece)
        size += words
    if len(groups) > 1 and size < min_words and sum(map(_words, groups[-2])) + size <= max_words:
        groups[-2].extend(groups.pop())
    return groups


def extracts_group(
    pieces: Iterable[ChunkPiece],
    *,
    target_words: int = TARGET_WORDS,
    max_words: int = MAX_WORDS,
    min_words: int = MIN_WORDS,
) -> Iterator[Extract]:
    """Extracts of consecutive pieces, per document; pieces come ordered by document, then ordinal."""
    for document_id, document_pieces in groupby(pieces, key=lambda piece: piece.document_id):
        previous: tuple[str, str] | None = None
        for group in _groups(list(document_pieces), target_words, max_words, min_words):
            extract = Extract(document_id=document_id)
            for piece in group:
                _append(extract, piece, previous)
                previous = split_heading(piece.text)
            if extract.text:
                yield extract


def curated_chunks(*, author: Author | None = None):
    """Chunks of documents a curator kept: included, still online, processed (so not a near-duplicate)."""
    chunks = Chunk.objects.filter(
        document__curation_state=Document.Curation.INCLUDED,
        document__gone_at__isnull=True,
        document__status=Document.Status.PROCESSED,
        document__duplicate_of__isnull=True,
    )
    if author is not None:
        chunks = chunks.filter(document__author=author)
    return chunks.order_by("document_id", "ordinal")


def extracts_for(*, author: Author | None = None) -> Iterator[Extract]:
    """Every extract of the curated corpus (of one author, or of all), in document and chunk order."""
    rows = curated_chunks(author=author).values_list("id", "document_id", "text").iterator(chunk_size=2000)
    return extracts_group(ChunkPiece(*row) for row in rows)
