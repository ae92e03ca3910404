"""A sitemap (or a sitemap index, or gzip-compressed sitemaps) -> the article of every page it lists.

Options:
- ``path_filter``: a regular expression, searched in each listed URL's path (``^/blog/`` keeps one
  section; ``/20\\d\\d/`` keeps dated posts). Without it every listed page is crawled.
- ``max_pages``: at most this many pages, in the sitemap's order (default DEFAULT_MAX_PAGES).

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
from apps.sources.crawlers.base import CrawledDocument, CrawlFailure, CrawlItem, Progress, SourceSpec
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
        try:
            path_filter = re.compile(source.options.get("path_filter") or "")
            max_pages = int(source.options.get("max_pages", DEFAULT_MAX_PAGES))
        except (re.error, TypeError, ValueError) as exc:
            yield CrawlFailure(source.url, f"The sitemap options of {source.url} are invalid: {exc}.")
            return
        listed: list[ListedPage] = []
        for item in self._listed_pages(source.url):
            if isinstance(item, CrawlFailure):
                self.lists_everything = False  # a sitemap that could not be read lists unknown pages
                yield item
                if item.url == source.url:
                    return  # the sitemap itself is unreadable: nothing to crawl
            else:
                listed.append(item)
        pages = _select(listed, path_filter)
        if len(pages) > max(max_pages, 0):
            pages, self.lists_everything = pages[: max(max_pages, 0)], False
        for done, page in enumerate(pages, start=1):
            article = fetch_article(self._client, page.url)
            if isinstance(article, CrawledDocument) and page.lastmod:
                article.metadata["sitemap_lastmod"] = page.lastmod
            yield article
            if progress is not None:
                progress(done, len(pages))

    def _listed_pages(self, sitemap_url: str) -> Iterator[ListedPage | CrawlFailure]:
        """Every page the sitemap lists, following indexes depth-first in document order."""
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
                root = parse_sitemap(result.content, url=url)
            except FetchError as exc:
                yield failure_from(url, exc)
                continue
            except SitemapError as exc:
                yield CrawlFailure(url, str(exc))
                continue
            host = host or _host(result.url)  # the entry sitemap's host, after redirects
            entries = [child for child in root if isinstance(child.tag, str)]  # not comments
            locs = [(_text(entry, "loc"), _text(entry, "lastmod")) for entry in entries]
            locs = [(loc, lastmod) for loc, lastmod in locs if loc and _host(loc) == host]
            if _local_name(root) == "sitemapindex":
                if depth < MAX_INDEX_DEPTH:
                    pending.extend((loc, depth + 1) for loc, _lastmod in reversed(locs))
            else:
                yield from (ListedPage(loc, lastmod) for loc, lastmod in locs)


def parse_sitemap(content: bytes, *, url: str) -> etree._Element:
    """The root (<urlset> or <sitemapindex>) of a sitemap, decompressed if need be, parsed without entities."""
    if content.startswith(_GZIP_MAGIC):
        try:
            content = gzip.GzipFile(fileobj=io.BytesIO(content)).read(MAX_SITEMAP_BYTES + 1)
        except (OSError, EOFError, zlib.error):
            raise SitemapError(f"{url} is not a valid gzip file.") from None
    if len(content) > MAX_SITEMAP_BYTES:
        raise SitemapError(f"{url} is larger than the {MAX_SITEMAP_BYTES}-byte limit for one sitemap.")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        raise SitemapError(f"{url} is not well-formed XML.") from None
    if _local_name(root) not in ("urlset", "sitemapindex"):
        raise SitemapError(f"{url} is not a sitemap (its root element is <{_local_name(root)}>).")
    return root


def _select(listed: list[ListedPage], path_filter: re.Pattern[str]) -> list[ListedPage]:
    selected: dict[str, ListedPage] = {}
    for page in listed:
        if page.url not in selected and path_filter.search(urlsplit(page.url).path):
            selected[page.url] = page
    return list(selected.values())


def _text(entry: etree._Element, name: str) -> str:
    return str(entry.xpath(f"string(*[local-name()='{name}'])")).strip()


def _local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()
