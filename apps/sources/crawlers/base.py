"""What every crawler takes and yields. Crawlers are ORM-free: the crawl service stores what they yield.

A crawler is a callable object with a ``kind`` and a ``crawl`` method that
yields ``CrawledDocument`` for each piece of writing it found, ``CrawlFailure``
for each URL it could not get, ``CrawlSkipped`` for each one it reached but keeps
nothing of (with the reason), and ``CrawlUnchanged`` for each page it knows is
unchanged without reading it again (``SourceSpec.known``). It yields as it goes,
so the service can store and report progress while the crawl runs.

Text conventions (``CrawledDocument.text``), which cleaning and chunking rely on:
Markdown-like plain text. Headings as ``#``/``##`` lines, paragraphs separated by a
blank line, list items as ``- `` lines, code in fenced blocks (```lang ... ```)
kept byte-for-byte. No HTML tags.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from apps.documents.crawled import CrawledDocument  # noqa: F401 - crawlers yield it; re-exported here


@dataclass(frozen=True)
class KnownPage:
    """What the previous crawls stored of a URL: enough to ask for it only if it changed."""

    etag: str = ""
    last_modified: str = ""
    listed_at: str = ""  # the date the sitemap or feed listed it with, as written there
    links: tuple[str, ...] = ()  # a site page's in-scope links, so a breadth-first crawl goes on past a 304


@dataclass(frozen=True)
class SourceSpec:
    """The part of a Source a crawler needs."""

    url: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    author_name: str = ""
    known: Mapping[str, KnownPage] = field(default_factory=dict)  # by document URL
    # The URL's userinfo ("user:token", percent-encoded), kept out of ``url``; never in a repr or a message.
    credentials: str = field(default="", repr=False)


@dataclass
class CrawlFailure:
    url: str
    error: str  # one sentence a curator can act on
    gone: bool = False  # the URL answered 404/410: the document was removed upstream


@dataclass
class CrawlSkipped:
    url: str
    reason: str  # one sentence: why nothing was kept (not a failure: nothing is wrong)


@dataclass
class CrawlUnchanged:
    url: str  # a document already stored, known unchanged without reading it again
    how: str = ""  # "304", "sitemap lastmod", "feed date"


CrawlItem = CrawledDocument | CrawlFailure | CrawlSkipped | CrawlUnchanged
Progress = Callable[[int, int | None], None]  # (done, total or None when unknown)


class Crawler(Protocol):
    kind: str
    # True when a successful crawl lists every document of the source, so a document
    # that no longer appears is gone upstream (feeds list only recent entries: False).
    # A crawler instance turns it False during a crawl whose listing was cut short
    # (max_pages reached, part of a sitemap or site unreadable).
    lists_everything: bool

    def crawl(self, source: SourceSpec, *, progress: Progress | None = None) -> Iterator[CrawlItem]: ...
