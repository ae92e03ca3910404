"""Cleaning crawled text: fix what extraction leaves behind, keep the structure chunking relies on.

Input follows the crawler text conventions (apps/sources/crawlers/base.py): ``#`` headings,
blank-line paragraphs, ``- `` list items, fenced code blocks. Prose is normalised (unicode,
whitespace, stray HTML); fenced code is left byte-for-byte, because whitespace is code's meaning.
"""

import hashlib
import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
_INLINE_CODE = re.compile(r"(`+)[^\n]*?\1")
_LIST_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)]) ")
_SPACES = re.compile(r"[ \t]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Cc except \t and \n
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->|<!DOCTYPE[^>]*>", re.IGNORECASE | re.DOTALL)
# Only real HTML element names, so prose about generics (``List<String>``, ``Vec<T>``) survives.
_BLOCK_TAGS = "address|article|aside|blockquote|div|dl|dd|dt|figure|figcaption|footer|form|h[1-6]|header|hr|main|nav"
_BLOCK_TAGS += "|ol|p|pre|section|table|tbody|thead|tfoot|tr|td|th|ul"
_INLINE_TAGS = "a|abbr|b|bdi|bdo|button|cite|code|del|dfn|em|font|i|iframe|img|input|ins|kbd|label|mark|picture|q"
_INLINE_TAGS += "|s|samp|small|source|span|strong|sub|sup|svg|time|u|var|video|wbr"
_ATTRS = r"(?:\s+[^\s<>]+)*\s*/?>"
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK_TAGS})\b{_ATTRS}", re.IGNORECASE)
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE_TAGS})\b{_ATTRS}", re.IGNORECASE)
_LINE_BREAK_TAG = re.compile(rf"<br\b{_ATTRS}", re.IGNORECASE)
_LIST_ITEM_TAG = re.compile(rf"<li\b{_ATTRS}", re.IGNORECASE)
_LIST_ITEM_END_TAG = re.compile(r"</li\s*>", re.IGNORECASE)

_SPACE_LIKE = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
# ZWNJ and ZWJ are kept: they carry meaning in Indic/Persian scripts and emoji sequences.
_INVISIBLE = "\u00ad\u180e\u200b\u2060\ufeff"
_LIGATURES = "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"
_CHARACTER_FIXES = str.maketrans(
    {
        **dict.fromkeys(_SPACE_LIKE, " "),
        **dict.fromkeys(_INVISIBLE),
        **{ligature: unicodedata.normalize("NFKC", ligature) for ligature in _LIGATURES},
        **dict.fromkeys("\u2028\x0b\x0c\x85", "\n"),
        "\u2029": "\n\n",
    }
)
_MAX_PASSES = 4


@dataclass(frozen=True)
class TextRun:
    """Consecutive lines that are either all prose or one fenced code block (fence lines included)."""

    lines: tuple[str, ...]
    is_code: bool
    closed: bool = True  # a code block whose closing fence is missing runs to the end of the text


def split_code_fences(lines: Sequence[str]) -> list[TextRun]:
    """Group lines into prose runs and fenced code blocks, as CommonMark reads fences."""
    runs: list[TextRun] = []
    prose: list[str] = []
    index = 0
    while index < len(lines):
        opening = _FENCE_OPEN.match(lines[index])
        if opening is None or (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            prose.append(lines[index])
            index += 1
            continue
        if prose:
            runs.append(TextRun(tuple(prose), is_code=False))
            prose = []
        end = index + 1
        while end < len(lines) and not _closes_fence(lines[end], opening.group(1)):
            end += 1
        runs.append(TextRun(tuple(lines[index : end + 1]), is_code=True, closed=end < len(lines)))
        index = end + 1
    if prose:
        runs.append(TextRun(tuple(prose), is_code=False))
    return runs


def clean_text(text: str) -> str:
    """Normalise prose (unicode, whitespace, stray HTML) and keep headings, lists and fenced code."""
    cleaned = _clean_once(text)
    # Entities can hide tags or fences ("&amp;lt;b&amp;gt;"): repeat until stable, so cleaning is idempotent.
    for _ in range(_MAX_PASSES):
        again = _clean_once(cleaned)
        if again == cleaned:
            break
        cleaned = again
    return cleaned


def content_hash(text: str) -> str:
    """SHA-256 hex digest of the text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _closes_fence(line: str, fence: str) -> bool:
    closing = _FENCE_CLOSE.match(line)
    return closing is not None and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence)


def _clean_once(text: str) -> str:
    # NUL is dropped even inside code: PostgreSQL text cannot store it. Line endings are unified everywhere,
    # code included, since fences are found line by line and "\r\n" is a transport artefact, not content.
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    lines: list[tuple[str, bool]] = []
    for run in split_code_fences(text.split("\n")):
        if run.is_code:
            lines.extend((line, True) for line in run.lines)
        else:
            prose = _outside_inline_code("\n".join(run.lines), _clean_characters)
            lines.extend((_clean_line(line), False) for line in prose.split("\n"))
    kept: list[tuple[str, bool]] = []
    for line, is_code in lines:
        blank_prose = not is_code and not line
        if blank_prose and (not kept or (not kept[-1][1] and not kept[-1][0])):
            continue  # at most one blank line between blocks, none at the start
        kept.append((line, is_code))
    while kept and not kept[-1][1] and not kept[-1][0]:
        kept.pop()
    return "\n".join(line for line, _ in kept)


def _clean_characters(text: str) -> str:
    text = _SCRIPT_OR_STYLE.sub("", _COMMENT.sub("", text))
    text = _LIST_ITEM_TAG.sub("\n- ", text)
    text = _BLOCK_TAG.sub("\n\n", _LIST_ITEM_END_TAG.sub("\n", _LINE_BREAK_TAG.sub("\n", text)))
    text = _INLINE_TAG.sub("", text)
    text = _ENTITY.sub(lambda entity: html.unescape(entity.group()), text)
    text = _CONTROL.sub("", text.translate(_CHARACTER_FIXES))
    return unicodedata.normalize("NFC", text)


def _clean_line(line: str) -> str:
    rest = line.lstrip(" \t")
    indent = line[: len(line) - len(rest)]
    rest = _outside_inline_code(rest, lambda part: _SPACES.sub(" ", part)).rstrip(" \t")
    # Indentation only means something for nested list items; elsewhere it is layout left over from the page.
    return indent + rest if rest and _LIST_ITEM.match(rest) else rest


def _outside_inline_code(text: str, fix: Callable[[str], str]) -> str:
    """Apply fix to the text between inline code spans, which stay as written."""
    parts: list[str] = []
    start = 0
    for span in _INLINE_CODE.finditer(text):
        parts.append(fix(text[start : span.start()]))
        parts.append(span.group())
        start = span.end()
    parts.append(fix(text[start:]))
    return "".join(parts)
