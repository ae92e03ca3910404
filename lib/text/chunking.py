"""Chunking cleaned text into retrievable pieces that fit the embedding model's window.

Chunks follow the text's structure (crawler conventions: ``#`` headings, blank-line paragraphs,
``- `` list items, fenced code). Each heading starts a section; packing restarts at every section,
so a chunk depends only on its own section: an edit changes (and re-embeds) only chunks of its section.
Every chunk starts with its heading line(s), so it reads on its own and retrieval sees its context.

Tokens are counted with the embedding model's own tokenizer (lib.text.tokens), without the
special tokens it adds; a chunk never exceeds the counter's window, so nothing is ever truncated
at embed time.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from lib.errors import TwinsiteError
from lib.text.cleaning import content_hash, split_code_fences
from lib.text.code_split import fitting_slices, split_code
from lib.text.tokens import TokenCounter, token_counter

# all-MiniLM-L6-v2's window (256) less [CLS] and [SEP]: the largest chunk the parameters may ask for.
MAX_CONTENT_TOKENS = 254

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]")
_SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+|(?<=[。！？])\s*")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ChunkParams:
    max_tokens: int  # content tokens per chunk, heading prefix and overlap included
    overlap_tokens: int  # about this many tokens of whole sentences/lines repeated from the previous chunk
    min_tokens: int  # a section's last chunk smaller than this takes content back from the one before

    def __post_init__(self) -> None:
        if not 32 <= self.max_tokens <= MAX_CONTENT_TOKENS:
            raise TwinsiteError(f"max_tokens must be between 32 and {MAX_CONTENT_TOKENS}, not {self.max_tokens}.")
        if not 0 <= self.overlap_tokens <= self.max_tokens // 4 or not 0 <= self.min_tokens <= self.max_tokens // 2:
            raise TwinsiteError("overlap_tokens must be at most a quarter and min_tokens at most half of max_tokens.")


PARAMS: dict[str, ChunkParams] = {
    "post": ChunkParams(max_tokens=128, overlap_tokens=16, min_tokens=8),
    "article": ChunkParams(max_tokens=200, overlap_tokens=32, min_tokens=24),
    "code": ChunkParams(max_tokens=224, overlap_tokens=24, min_tokens=16),
}


@dataclass(frozen=True)
class TextChunk:
    ordinal: int
    text: str
    token_count: int  # content tokens, without [CLS]/[SEP]
    content_hash: str
    heading: str  # heading path, e.g. "Intro > Setup"; "" before the first heading


def chunk_text(
    text: str, *, kind: str = "article", counter: TokenCounter | None = None, params: ChunkParams | None = None
) -> list[TextChunk]:
    """Split cleaned text into heading-prefixed chunks of at most params.max_tokens tokens, in order."""
    if params is None:
        if kind not in PARAMS:
            raise TwinsiteError(f"Unknown content kind {kind!r}: expected one of {', '.join(sorted(PARAMS))}.")
        params = PARAMS[kind]
    if not text.strip():
        return []
    counter = counter or token_counter()
    if params.max_tokens > counter.max_tokens:  # a configured model with a smaller window than MiniLM's
        params = ChunkParams(counter.max_tokens, params.overlap_tokens, params.min_tokens)
    chunks: list[TextChunk] = []
    sections = _sections(_parse_blocks(text))
    if not any(blocks for _, blocks in sections):  # headings only: they are the text
        sections = [((), [replace(headings[-1], kind="prose") for headings, _ in sections])]
    for headings, blocks in sections:
        if not blocks:
            continue  # a heading with no text of its own lives on in its subsections' prefixes
        prefix = _prefix([heading.text for heading in headings], counter, params.max_tokens // 2)
        heading = " > ".join(_title(heading.text) for heading in headings)
        for chunk in _pack_section(prefix, blocks, counter, params):
            token_count = counter.count(chunk)
            if token_count > params.max_tokens:  # cannot happen by construction; never hand the model a cut text
                raise TwinsiteError(f"A chunk of {token_count} tokens exceeds the {params.max_tokens}-token window.")
            chunks.append(TextChunk(len(chunks), chunk, token_count, content_hash(chunk), heading))
    return chunks


def chunk_headings(text: str) -> str:
    """The heading lines a chunk of ``chunk_text`` starts with ("" for a chunk before any heading).

    Chunks of one section share them: retrieval uses them to tell a section's chunks apart from others'.
    """
    lines = []
    for line in text.split("\n"):
        if not _HEADING.match(line):
            break
        lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class _Block:
    kind: str  # "heading" | "prose" | "item" | "code"
    text: str
    sep: str  # the whitespace joining it to the block before it, as in the source
    closed: bool = True  # code only: False when the closing fence is missing


@dataclass
class _Group:
    atoms: list[_Block]
    overlap: list[tuple[str, str]] = field(default_factory=list)  # (separator, sentence or line)


def _parse_blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    lines: list[str] = []
    sep = "\n\n"

    def flush(kind: str) -> None:
        nonlocal sep
        if lines:
            blocks.append(_Block(kind, "\n".join(lines), sep))
            lines.clear()
            sep = "\n"

    for run in split_code_fences(text.split("\n")):
        if run.is_code:
            blocks.append(_Block("code", "\n".join(run.lines), sep, run.closed))
            sep = "\n"
            continue
        kind = "prose"
        for line in run.lines:
            is_heading, is_item = bool(_HEADING.match(line)), bool(_LIST_ITEM.match(line))
            if not line.strip() or is_heading or is_item:
                flush(kind)
            if not line.strip():
                sep = "\n\n"
            elif is_heading:
                lines.append(line)
                flush("heading")
            else:
                kind = "item" if is_item else kind if lines else "prose"
                lines.append(line)  # a line that is neither continues the paragraph or item above
        flush(kind)
    return blocks


def _sections(blocks: list[_Block]) -> list[tuple[tuple[_Block, ...], list[_Block]]]:
    sections: list[tuple[tuple[_Block, ...], list[_Block]]] = [((), [])]
    for block in blocks:
        if block.kind != "heading":
            sections[-1][1].append(block)
            continue
        level = len(_HEADING.match(block.text).group(1))
        path = tuple(h for h in sections[-1][0] if len(_HEADING.match(h.text).group(1)) < level)
        sections.append(((*path, block), []))
    return [section for section in sections if section[0] or section[1]]


def _title(heading: str) -> str:
    return _HEADING.match(heading).group(2)


def _prefix(heading_lines: list[str], counter: TokenCounter, budget: int) -> str:
    """The heading lines a chunk starts with, shortened when they would crowd out its text."""
    if not heading_lines:
        return ""
    for candidate in ("\n".join(heading_lines), heading_lines[-1]):
        if counter.count(candidate) <= budget:
            return candidate
    atoms = _split_to_fit(heading_lines[-1], lambda piece: counter.count(piece) <= budget)
    prefix = atoms[0].text
    for atom in atoms[1:]:  # as many of the heading's first words as fit
        if counter.count(prefix + atom.sep + atom.text) > budget:
            break
        prefix += atom.sep + atom.text
    return prefix


def _pieces(text: str, separator: re.Pattern[str]) -> list[tuple[str, str]]:
    """Split text at separator matches, keeping with each piece the separator before it."""
    pieces, start, sep = [], 0, ""
    for match in separator.finditer(text):
        pieces.append((sep, text[start : match.start()]))
        sep, start = match.group(), match.end()
    pieces.append((sep, text[start:]))
    return [(sep, piece) for sep, piece in pieces if piece]


def _split_to_fit(text: str, fits: Callable[[str], bool], sep: str = "") -> list[_Block]:
    """Split prose too long for one chunk by sentences, then words, then (a giant word) characters."""
    atoms: list[_Block] = []
    for sentence_index, (sentence_sep, sentence) in enumerate(_pieces(text, _SENTENCE_BREAK)):
        sentence_sep = sentence_sep if sentence_index else sep
        words = [("", sentence)] if fits(sentence) else _pieces(sentence, _WHITESPACE)
        for word_index, (word_sep, word) in enumerate(words):
            slices = fitting_slices(word, fits)
            atoms.append(_Block("prose", slices[0], word_sep if word_index else sentence_sep))
            atoms.extend(_Block("prose", piece, "") for piece in slices[1:])
    return atoms


def _pack_section(prefix: str, blocks: list[_Block], counter: TokenCounter, params: ChunkParams) -> list[str]:
    """Greedily pack a section's blocks into chunk texts, each opening with the previous one's last sentences."""

    def fits(body: str) -> bool:
        return counter.count(_with_prefix(prefix, body)) <= params.max_tokens

    groups: list[_Group] = []
    for atom in _atoms(blocks, fits):
        if groups and fits(_body(groups[-1].overlap, [*groups[-1].atoms, atom])):
            groups[-1].atoms.append(atom)
        else:
            overlap = _overlap(groups[-1].atoms, counter, params.overlap_tokens) if groups else []
            groups.append(_trim_overlap(_Group([atom], overlap), fits))
    # A tiny last chunk would be mostly overlap: take whole atoms back from the chunk before it.
    while (
        len(groups) > 1 and len(groups[-2].atoms) > 1 and counter.count(_body([], groups[-1].atoms)) < params.min_tokens
    ):
        previous = groups[-2].atoms[:-1]
        candidate = _trim_overlap(
            _Group([groups[-2].atoms[-1], *groups[-1].atoms], _overlap(previous, counter, params.overlap_tokens)), fits
        )
        if not fits(_body(candidate.overlap, candidate.atoms)):
            break
        groups[-2].atoms, groups[-1] = previous, candidate
    return [_with_prefix(prefix, _body(group.overlap, group.atoms)) for group in groups]


def _atoms(blocks: list[_Block], fits: Callable[[str], bool]) -> Iterator[_Block]:
    for block in blocks:
        if fits(block.text):
            yield block
        elif block.kind == "code":
            pieces = split_code(block.text, block.closed, fits)
            yield from (_Block("code", piece, block.sep if i == 0 else "\n\n") for i, piece in enumerate(pieces))
        else:
            yield from _split_to_fit(block.text, fits, block.sep)


def _with_prefix(prefix: str, body: str) -> str:
    return f"{prefix}\n\n{body}" if prefix else body


def _body(overlap: list[tuple[str, str]], atoms: list[_Block]) -> str:
    head = f"{_join(overlap)}{atoms[0].sep}{atoms[0].text}" if overlap else atoms[0].text
    return head + "".join(atom.sep + atom.text for atom in atoms[1:])


def _join(units: list[tuple[str, str]]) -> str:
    return units[0][1] + "".join(sep + text for sep, text in units[1:])


def _overlap(atoms: list[_Block], counter: TokenCounter, limit: int) -> list[tuple[str, str]]:
    """The last whole sentences (prose) or lines (list items) of atoms, up to limit tokens; none from code."""
    units: list[tuple[str, str]] = []
    for atom in reversed(atoms):
        if atom.kind == "code":
            break
        pieces = _pieces(atom.text, _SENTENCE_BREAK) if atom.kind == "prose" else [("", atom.text)]
        pieces[:1] = [(atom.sep, pieces[0][1])] if pieces else []
        for piece in reversed(pieces):
            if counter.count(_join([piece, *units])) > limit:
                return units
            units.insert(0, piece)
    return units


def _trim_overlap(group: _Group, fits: Callable[[str], bool]) -> _Group:
    while group.overlap and not fits(_body(group.overlap, group.atoms)):
        group.overlap.pop(0)
    return group
