"""Extracts: consecutive chunks of one document joined back into the author's text, of a sensible size."""

import re

import pytest

from apps.trainsets.generation.extracts import MAX_WORDS, ChunkPiece, extracts_for, extracts_group, split_heading
from lib.text.chunking import chunk_text
from tests.factories import make_chunk, make_document

SENTENCES = [
    f"Sentence {n} says something about backups, replicas and {topic}."
    for n, topic in enumerate(["zstd", "regions", "restores", "wal-g", "hope", "drills", "alerts", "costs"] * 9)
]


def document_text() -> str:
    # Long paragraphs, so the chunker cuts inside them and repeats sentences as overlap.
    paragraphs = [" ".join(SENTENCES[i : i + 12]) for i in range(0, 48, 12)]
    second = [" ".join(SENTENCES[i : i + 12]) for i in range(48, 72, 12)]
    return "# Backups\n\n" + "\n\n".join(paragraphs) + "\n\n## Restores\n\n" + "\n\n".join(second)


def pieces(text: str, document_id: int = 1, first_id: int = 1) -> list[ChunkPiece]:
    return [ChunkPiece(first_id + c.ordinal, document_id, c.text) for c in chunk_text(text, kind="post")]


def test_extracts_give_back_the_authors_text_once_without_heading_prefixes_or_overlap():
    chunks = pieces(document_text())
    assert len(chunks) > 4
    overlapping = [a for a, b in zip(chunks, chunks[1:], strict=False) if split_heading(b.text)[1][:40] in a.text]
    assert overlapping, "the test text must make the chunker repeat sentences"

    extracts = list(extracts_group(chunks))

    joined = "\n\n".join(extract.text for extract in extracts)
    for sentence in SENTENCES[:72]:
        assert joined.count(sentence) == 1, sentence
    assert "# Backups" not in joined  # heading prefixes are context, not text
    restores = next(e for e in extracts if SENTENCES[48] in e.text)  # where the second section starts
    assert restores.heading.endswith("## Restores") or "## Restores\n\n" + SENTENCES[48] in restores.text
    assert extracts[0].heading == "# Backups"
    assert [i for e in extracts for i in e.chunk_ids] == [c.id for c in chunks]  # every chunk, in order, once
    assert all(e.word_count <= MAX_WORDS for e in extracts)
    assert all(e.word_count >= 100 for e in extracts[:-1])


def test_extracts_never_span_two_documents_and_small_tails_join_the_extract_before():
    first = pieces(document_text(), document_id=1)
    second = pieces("Just one short paragraph of a note.", document_id=2, first_id=100)

    extracts = list(extracts_group(first + second, target_words=60, max_words=120, min_words=30))

    assert {e.document_id for e in extracts} == {1, 2}
    assert extracts[-1].document_id == 2 and extracts[-1].text == "Just one short paragraph of a note."
    assert all(e.word_count <= 120 for e in extracts)
    assert all(e.word_count >= 30 for e in extracts if e.document_id == 1)


def test_extract_hash_depends_only_on_the_text():
    a, b = list(extracts_group(pieces("Same words here.", 1))), list(extracts_group(pieces("Same words here.", 2, 9)))
    assert a[0].hash == b[0].hash and re.fullmatch(r"[0-9a-f]{64}", a[0].hash)


@pytest.mark.django_db
def test_only_chunks_of_curated_live_processed_documents_make_extracts():
    from django.utils import timezone

    kept = make_document(status="processed")
    make_chunk(document=kept, text="A paragraph the curator kept.")
    for fields in [
        {"status": "processed", "curation_state": "excluded", "exclusion_reason": "private"},
        {"status": "processed", "gone_at": timezone.now()},
        {"status": "duplicate"},
        {"status": "pending"},
    ]:
        make_chunk(document=make_document(**fields), text="A paragraph that must not be used.")

    extracts = list(extracts_for())

    assert [(e.document_id, e.text) for e in extracts] == [(kept.pk, "A paragraph the curator kept.")]
    assert list(extracts_for(author=make_document().author)) == []
