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
from typing import Any, Protocol

from apps.documents.crawled import CrawledDocument  # noqa: F401 - crawlers yield it; re-exported here


@dataclass(frozen=True)
class SourceSpec:
    """The part of a Source a crawler needs."""

    url: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    author_name: str = ""


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
