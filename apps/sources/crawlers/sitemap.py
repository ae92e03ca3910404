"""A sitemap (or a sitemap index, or gzip-compressed sitemaps) -> the article of every page it lists.

Options:
- ``path_filter``: a regular expression, searched in each listed URL's path (``^/blog/`` keeps one
  section; ``/20\\d\\d/`` keeps dated posts). Without it every listed page is crawled.
- ``max_pages``: at most this many pages, in the sitemap's order (default DEFAULT_MAX_PAGES); the
  sitemaps are read as the crawl goes, so no sitemap past that point is fetched.

Following the sitemaps.org protocol, a sitemap lists pages of its own host only; URLs of other hosts
are skipped. Compression is recognised by content (the gzip magic bytes), so a ``.gz`` sitemap that
the server already decompressed in transit, and a compressed one without the suffix, both work.
"""

import gzip
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from apps.core.http import FetchError, HttpClient
from apps.sources.crawlers.article import failure_from, fetch_article
from apps.sources.crawlers.base import (
    CrawledDocument,
    CrawlFailure,
    CrawlItem,
    CrawlUnchanged,
    KnownPage,
    Progress,
    SourceSpec,
)
from lib.errors import TwinsiteError

SITEMAP_ACCEPT = "application/xml,text/xml;q=0.9,application/gzip;q=0.8,*/*;q=0.1"
DEFAULT_MAX_PAGES = 1000
MAX_INDEX_DEPTH = 3  # an index of indexes of sitemaps is as deep as real sites go
MAX_SITEMAPS = 200
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the protocol's limit for one uncompressed sitemap
_GZIP_MAGIC = b"\x1f\x8b"


class SitemapError(TwinsiteError):
    """A fetched sitemap could not be read; the message says why, in one sentence."""


@dataclass(frozen=True)
class ListedPage:
    url: str
    lastmod: str = ""


class SitemapCrawler:
    kind = "sitemap"
    lists_everything = True

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    def crawl(self, source: SourceSpec, *, progress: Progress | None = None) -> Iterator[CrawlItem]:
        """Pages as the sitemaps list them, read as they come: past ``max_pages`` no more sitemap is fetched.

        A page the sitemap lists with the same ``lastmod`` as last time is not fetched again; others are
        asked for conditionally (ETag / Last-Modified), so an unchanged page costs a 304.
        """
        try:
            path_filter = re.compile(source.options.get("path_filter") or "")
            max_pages = max(int(source.options.get("max_pages", DEFAULT_MAX_PAGES)), 0)
        except (re.error, TypeError, ValueError) as exc:
            yield CrawlFailure(source.url, f"The sitemap options of {source.url} are invalid: {exc}.")
            return
        selected: set[str] = set()
        for item in self._listed_pages(source.url):
            if isinstance(item, CrawlFailure):
                self.lists_everything = False  # a sitemap that could not be read lists unknown pages
                yield item
                if item.url == source.url:
                    return  # the sitemap itself is unreadable: nothing to crawl
                continue
            if item.url in selected or not path_filter.search(urlsplit(item.url).path):
                continue
            if len(selected) >= max_pages:
                self.lists_everything = False  # cut short: the rest is not known
                return
            selected.add(item.url)
            yield self._page(item, source.known.get(item.url))
            if progress is not None:
                progress(len(selected), None)

    def _page(self, page: ListedPage, known: KnownPage | None) -> CrawlItem:
        if known is not None and page.lastmod and known.listed_at == page.lastmod:
            return CrawlUnchanged(page.url, "sitemap lastmod")
        article = fetch_article(self._client, page.url, known=known)
        if isinstance(article, CrawledDocument) and page.lastmod:
            article.metadata["sitemap_lastmod"] = page.lastmod
            article.listed_at = page.lastmod
        return article

    def _listed_pages(self, sitemap_url: str) -> Iterator[ListedPage | CrawlFailure]:
        """Every page the sitemap lists, following indexes depth-first in document order, one sitemap at a time."""
        pending = [(sitemap_url, 0)]
        seen: set[str] = set()
        host = ""
        while pending and len(seen) < MAX_SITEMAPS:
            url, depth = pending.pop()
            if url in seen:
                continue
            seen.add(url)
            try:
                result = self._client.get(url, accept=SITEMAP_ACCEPT)
                kind, entries = sitemap_entries(result.content, url=url)
                host = host or _host(result.url)  # the entry sitemap's host, after redirects
                children: list[str] = []
                for loc, lastmod in entries:
                    if not loc or _host(loc) != host:
                        continue
                    if kind == "sitemapindex":
                        children.append(loc)
                    else:
                        yield ListedPage(loc, lastmod)
            except FetchError as exc:
                yield failure_from(url, exc)
                continue
            except SitemapError as exc:
                yield CrawlFailure(url, str(exc))
                continue
            if depth < MAX_INDEX_DEPTH:
                pending.extend((loc, depth + 1) for loc in reversed(children))


def sitemap_entries(content: bytes, *, url: str) -> tuple[str, Iterator[tuple[str, str]]]:
    """The root's name ("urlset" or "sitemapindex") and its (loc, lastmod) entries, parsed as they are read.

    Decompressed if need be; entities are never resolved. The entries are cleared once read, so a
    50 MB sitemap is never held as a whole tree.
    """
    if content.startswith(_GZIP_MAGIC):
        try:
            content = gzip.GzipFile(fileobj=io.BytesIO(content)).read(MAX_SITEMAP_BYTES + 1)
        except (OSError, EOFError, zlib.error):
            raise SitemapError(f"{url} is not a valid gzip file.") from None
    if len(content) > MAX_SITEMAP_BYTES:
        raise SitemapError(f"{url} is larger than the {MAX_SITEMAP_BYTES}-byte limit for one sitemap.")
    events = etree.iterparse(
        io.BytesIO(content),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        _event, root = next(events)
    except (etree.XMLSyntaxError, StopIteration):
        raise SitemapError(f"{url} is not well-formed XML.") from None
    kind = _local_name(root)
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"{url} is not a sitemap (its root element is <{kind}>).")
    return kind, _entries(events, root, url)


def _entries(events: Iterator, root: etree._Element, url: str) -> Iterator[tuple[str, str]]:
    try:
        for event, element in events:
            if event == "end" and element.getparent() is root and _local_name(element) in ("url", "sitemap"):
                yield _text(element, "loc"), _text(element, "lastmod")
                element.clear()
                root.remove(element)
    except etree.XMLSyntaxError:
        raise SitemapError(f"{url} is not well-formed XML.") from None


def _text(entry: etree._Element, name: str) -> str:
    return str(entry.xpath(f"string(*[local-name()='{name}'])")).strip()


def _local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()
