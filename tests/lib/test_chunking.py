"""Chunking against the real all-MiniLM-L6-v2 tokenizer: chunks fit the window, follow the structure, stay stable."""

import random
import re
from pathlib import Path

import pytest

from lib.errors import TwinsiteError
from lib.packaged_models import packaged_minilm_path
from lib.text.chunking import MAX_CONTENT_TOKENS, PARAMS, ChunkParams, chunk_headings, chunk_text
from lib.text.cleaning import clean_text
from lib.text.tokens import token_counter

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "text"
GPL = Path("/usr/share/common-licenses/GPL-3")
GUIDE = """Before any heading.

# Guide

Intro paragraph. It has two sentences.

## Setup

- install it
- run it
  - nested

```python
def greet(name):\t
\treturn f"hi {name}"
```

### Deep

Text.
"""


@pytest.fixture(scope="module")
def counter():
    return token_counter()


def long_document() -> str:
    """The GPL-3 with its numbered sections as headings; generated text where the file is missing."""
    if GPL.exists():
        lines = [re.sub(r"^\s+(\d+)\. ([A-Z][^.]*)\.$", r"## \1. \2", line) for line in GPL.read_text().splitlines()]
        return clean_text("# GNU General Public License\n\n" + "\n".join(lines))
    generator = random.Random(3)
    vocabulary = [f"word{n}" for n in range(500)]

    def sentence() -> str:
        return " ".join(generator.choices(vocabulary, k=generator.randint(5, 25))).capitalize() + "."

    sections = [
        f"## {n}. Section\n\n" + "\n\n".join(" ".join(sentence() for _ in range(4)) for _ in range(6))
        for n in range(18)
    ]
    return "# Generated\n\n" + "\n\n".join(sections)


def python_module(functions: int) -> str:
    body = []
    for n in range(functions):
        body += [f"@register('step-{n}')", f"def step_{n}(payload, *, retries=3):", f'    """Run step {n}."""']
        body += [
            "    total = 0",
            "",
            "    for item in payload:",
            f"        total += item * {n}\t",
            "    return total",
            "",
        ]
    return "\n".join(body)


def test_tokens_are_counted_by_the_model_tokenizer_without_special_tokens(counter):
    assert (packaged_minilm_path() / "tokenizer.json").is_file()
    assert counter.count("Hello world") == 2
    assert counter.count("Tokenization") == 2  # WordPiece: "token", "##ization"
    assert counter.max_tokens == MAX_CONTENT_TOKENS  # MiniLM's 256-token window less [CLS] and [SEP]
    assert token_counter() is counter


def test_every_chunk_fits_its_window_on_varied_text(counter):
    samples = [long_document(), *(path.read_text() for path in FIXTURES.glob("*.md")), GUIDE]
    samples.append(" ".join(f"word{n % 97}" for n in range(3000)))  # one sentence, no punctuation
    samples.append("=" * 5000 + " tail")  # one "word" of 5000 tokens
    samples.append("# " + "very long heading " * 150 + "\n\nShort body.")
    samples.append("数据库的索引很重要。" * 300)  # no spaces at all
    samples.append(f"# Code\n\n```python\n{python_module(40)}\n```")
    samples.append("```js\n" + "var a=1;" * 3000 + "\n```")  # minified: one line longer than the window
    for kind, params in PARAMS.items():
        for sample in samples:
            chunks = chunk_text(sample, kind=kind, counter=counter)
            assert chunks, kind
            for chunk in chunks:
                assert chunk.token_count <= params.max_tokens
                assert chunk.token_count == counter.count(chunk.text)
            assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))


def test_nothing_is_truncated_when_the_model_embeds_a_full_chunk(counter):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(packaged_minilm_path()), device="cpu")
    chunks = chunk_text(long_document(), counter=counter, params=ChunkParams(MAX_CONTENT_TOKENS, 32, 24))
    assert max(chunk.token_count for chunk in chunks) > MAX_CONTENT_TOKENS - 10  # the window is really used
    seen = model.preprocess([chunk.text for chunk in chunks])["attention_mask"].sum(dim=1).tolist()
    assert seen == [chunk.token_count + 2 for chunk in chunks]  # every token plus [CLS] and [SEP], none cut


def test_no_sentence_of_a_long_document_is_lost(counter):
    document = long_document()
    chunks = chunk_text(document, counter=counter)
    for paragraph in document.split("\n\n"):
        if paragraph.startswith("#"):
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
            assert any(sentence in chunk.text for chunk in chunks), sentence


def test_each_chunk_starts_with_its_heading_path(counter):
    chunks = chunk_text(GUIDE, counter=counter)
    assert [chunk.heading for chunk in chunks] == ["", "Guide", "Guide > Setup", "Guide > Setup > Deep"]
    assert chunks[0].text == "Before any heading."
    assert chunks[1].text == "# Guide\n\nIntro paragraph. It has two sentences."
    assert chunks[2].text.startswith("# Guide\n## Setup\n\n- install it\n- run it\n  - nested\n\n```python\n")
    assert chunks[3].text == "# Guide\n## Setup\n### Deep\n\nText."


def test_a_chunks_heading_lines_name_its_section(counter):
    chunks = chunk_text(GUIDE, counter=counter)
    assert [chunk_headings(chunk.text) for chunk in chunks] == [
        "",
        "# Guide",
        "# Guide\n## Setup",
        "# Guide\n## Setup\n### Deep",
    ]
    assert chunk_headings("#hashtag is not a heading\n# nor is a line after text") == ""


def test_small_code_blocks_are_kept_byte_for_byte(counter):
    code = '```python\ndef greet(name):\t\n\treturn f"hi {name}"\n```'
    assert code in chunk_text(GUIDE, kind="code", counter=counter)[2].text


def test_long_code_is_split_between_definitions_never_inside_a_line(counter):
    module = python_module(40)
    chunks = chunk_text(f"# Steps\n\n```python\n{module}\n```", kind="code", counter=counter)
    assert len(chunks) > 3
    pieces = []
    for chunk in chunks:
        assert chunk.text.startswith("# Steps\n\n```python\n") and chunk.text.endswith("\n```")
        pieces.append(chunk.text.removeprefix("# Steps\n\n```python\n").removesuffix("\n```"))
        assert pieces[-1].startswith("@register(")  # every piece starts at a decorated definition
    assert "\n\n".join(pieces) == module.strip()  # no line cut, reflowed, lost or repeated


def test_long_code_without_definitions_is_split_at_blank_lines(counter):
    config = "\n\n".join(f"job_{n}:\n  image: python:3.11\n  script:\n    - make test-{n}" for n in range(60))
    chunks = chunk_text(f"```yaml\n{config}\n```", kind="code", counter=counter)
    pieces = [chunk.text.removeprefix("```yaml\n").removesuffix("\n```") for chunk in chunks]
    assert len(pieces) > 2 and all(piece.startswith("job_") for piece in pieces)
    assert "\n\n".join(pieces) == config


def test_a_long_paragraph_is_split_at_sentence_ends(counter):
    paragraph = " ".join(f"Sentence number {n} explains one more detail of the design." for n in range(60))
    chunks = chunk_text(paragraph, counter=counter)
    assert len(chunks) > 2
    for chunk in chunks:
        assert chunk.text.startswith("Sentence number ") and chunk.text.endswith("of the design.")


def test_chinese_text_is_split_at_its_sentence_ends(counter):
    chunks = chunk_text("数据库的索引很重要。" * 300, counter=counter)
    assert len(chunks) > 2 and all(chunk.text.endswith("很重要。") for chunk in chunks)


def test_a_heading_too_long_for_a_prefix_is_shortened_to_its_first_words(counter):
    heading = "# " + "very long heading " * 150
    chunks = chunk_text(f"{heading}\n\nShort body.", counter=counter)
    assert len(chunks) == 1 and chunks[0].text.endswith("\n\nShort body.")
    prefix = chunks[0].text.removesuffix("\n\nShort body.")
    assert heading.startswith(prefix) and 80 < counter.count(prefix) <= 100


def test_a_sentence_longer_than_the_window_is_split_between_words(counter):
    words = [f"token{n}" for n in range(2000)]
    chunks = chunk_text(" ".join(words), kind="post", counter=counter)
    assert len(chunks) > 10
    assert all(set(chunk.text.split()) <= set(words) for chunk in chunks)


def test_chunks_overlap_by_whole_sentences_of_the_previous_chunk(counter):
    params = PARAMS["article"]
    paragraphs = [" ".join(f"Point {p}.{s} is short." for s in range(5)) for p in range(30)]
    chunks = chunk_text("# Notes\n\n" + "\n\n".join(paragraphs), counter=counter)
    assert len(chunks) > 3
    for previous, chunk in zip(chunks, chunks[1:], strict=False):
        overlap = chunk.text.removeprefix("# Notes\n\n").split("\n\n")[0]
        assert previous.text.endswith(" " + overlap) and overlap.startswith("Point ")
        assert 0 < counter.count(overlap) <= params.overlap_tokens


def test_a_tiny_last_chunk_takes_content_back_from_the_one_before(counter):
    def paragraph(label: str, tokens: int) -> str:
        words = [label]
        while counter.count(" ".join(words)) < tokens:
            words.append("more")
        return " ".join(words)

    text = "\n\n".join([paragraph("first", 100), paragraph("second", 96), "Third and last, closing the section."])
    greedy = chunk_text(text, counter=counter, params=ChunkParams(200, 0, 0))
    balanced = chunk_text(text, counter=counter, params=ChunkParams(200, 0, 24))
    assert greedy[-1].text == "Third and last, closing the section."
    assert balanced[-1].text.startswith("second") and balanced[-1].text.endswith("closing the section.")


def test_an_edit_changes_only_the_chunks_of_its_own_section(counter):
    document = long_document()
    before = chunk_text(document, counter=counter)
    edited_heading = before[len(before) // 2].heading
    section = [chunk for chunk in before if chunk.heading == edited_heading]
    paragraph = section[0].text.split("\n\n")[1]
    after = chunk_text(
        document.replace(paragraph, paragraph + " One sentence added by the author.", 1), counter=counter
    )

    def by_heading(chunks, keep):
        return [chunk.content_hash for chunk in chunks if keep(chunk.heading)]

    assert by_heading(after, lambda h: h != edited_heading) == by_heading(before, lambda h: h != edited_heading)
    assert by_heading(after, lambda h: h == edited_heading) != by_heading(before, lambda h: h == edited_heading)
    assert chunk_text(document, counter=counter) == before  # deterministic


def test_posts_get_smaller_chunks_than_articles(counter):
    document = long_document()
    posts, articles = chunk_text(document, kind="post", counter=counter), chunk_text(document, counter=counter)
    assert max(chunk.token_count for chunk in posts) <= 128 < max(chunk.token_count for chunk in articles)
    assert len(posts) > len(articles)


def test_empty_text_gives_no_chunks(counter):
    assert chunk_text("", counter=counter) == []
    assert chunk_text(" \n\n\t ", counter=counter) == []


def test_a_document_of_headings_only_still_gives_a_chunk(counter):
    chunks = chunk_text("# Title\n\n## Subtitle", counter=counter)
    assert [chunk.text for chunk in chunks] == ["# Title\n\n## Subtitle"]


def test_unknown_kinds_and_oversized_windows_are_refused():
    with pytest.raises(TwinsiteError, match="Unknown content kind"):
        chunk_text("text", kind="video")
    with pytest.raises(TwinsiteError, match="max_tokens"):
        ChunkParams(max_tokens=256, overlap_tokens=0, min_tokens=0)


def test_counting_line_by_line_equals_counting_the_whole_text(counter):
    """The counter sums cached per-line counts: exact for WordPiece, which splits words on whitespace."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(packaged_minilm_path()), local_files_only=True)
    lines = (clean_text(GPL.read_text()) if GPL.exists() else long_document()).splitlines()
    generator = random.Random(5)
    for _ in range(50):
        start = generator.randrange(len(lines))
        text = "\n".join(lines[start : start + generator.randint(1, 30)]) + "\n\tdef f(x):\n\t\treturn x**2  # ünïcode"
        assert counter.count(text) == len(tokenizer(text, add_special_tokens=False)["input_ids"])
