"""What every crawler takes and yields. Crawlers are ORM-free: the crawl service stores what they yield.

A crawler is a callable object with a ``kind`` and a ``crawl`` method that
yields ``CrawledDocument`` for each piece of writing it found and
``CrawlFailure`` for each URL it could not get. It yields as it goes, so the
service can store and report progress while the crawl runs.

Text conventions (``CrawledDocument.text``), which cleaning and chunking rely on:
Markdown-like plain text. Headings as ``#``/``##`` lines, paragraphs separated by a
blank line, list items as ``- `` lines, code in fenced blocks (```lang ... ```)
kept byte-for-byte. No HTML tags.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class SourceSpec:
    """The part of a Source a crawler needs."""

    url: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    author_name: str = ""


@dataclass
class CrawledDocument:
    url: str  # canonical URL (or repo-relative path for files), unique within the source
    text: str  # extracted main content, following the conventions above
    title: str = ""
    raw_content: str = ""  # what was fetched, as text (HTML, Markdown, code), kept for re-extraction
    content_type: str = "article"  # "article" | "post" | "code": picks the chunking parameters
    published_at: datetime | None = None  # timezone-aware when known
    author_name: str = ""  # as the page states it, if it does
    language: str = ""  # ISO 639-1 when known
    metadata: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable extras


@dataclass
class CrawlFailure:
    url: str
    error: str  # one sentence a curator can act on
    gone: bool = False  # the URL answered 404/410: the document was removed upstream


CrawlItem = CrawledDocument | CrawlFailure
Progress = Callable[[int, int | None], None]  # (done, total or None when unknown)


class Crawler(Protocol):
    kind: str
    # True when a successful crawl lists every document of the source, so a document
    # that no longer appears is gone upstream (feeds list only recent entries: False).
    # A crawler instance turns it False during a crawl whose listing was cut short
    # (max_pages reached, part of a sitemap or site unreadable).
    lists_everything: bool

    def crawl(self, source: SourceSpec, *, progress: Progress | None = None) -> Iterator[CrawlItem]: ...
