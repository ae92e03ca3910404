"""A site section -> the article of every page reachable from its start page, breadth first.

The crawl stays on the start page's host (after its redirects) and under a path prefix: the start
page's directory unless the ``path_prefix`` option says otherwise. Options ``max_depth`` (links away
from the start page, default 3) and ``max_pages`` (pages fetched, failures included, default 200)
bound it. Links are resolved, stripped of their fragment and deduplicated; links to files that are
not pages (by extension) are never fetched, and answers that are not HTML are skipped.
"""

from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from apps.core.http import FetchError, FetchResult, HttpClient
from apps.sources.crawlers.article import (
    HTML_ACCEPT,
    article_document,
    conditions,
    failure_from,
    is_html,
    is_pdf,
    pdf_document,
)
from apps.sources.crawlers.base import (
    CrawlFailure,
    CrawlItem,
    CrawlSkipped,
    CrawlUnchanged,
    KnownPage,
    Progress,
    SourceSpec,
)
from apps.sources.crawlers.extract import extract_article, extract_links

DEFAULT_MAX_DEPTH = 3
DEFAULT_MAX_PAGES = 200
# Links to these are files, not pages: never fetched (a page's answer is checked by Content-Type too).
# PDFs are fetched: their text layer is writing.
NON_PAGE_EXTENSIONS = frozenset(
    (  # noqa: SIM905 - one word per extension reads better than 60 quoted strings
        "7z apk avi bin bmp bz2 css csv deb dmg doc docx epub exe flac gif gz ico iso jar jpeg jpg js json m4a mkv mov "
        "mp3 mp4 mpeg msi odt ogg otf png ppt pptx ps rar rpm rss svg tar tgz tif tiff ttf txt wav webm webp woff "
        "woff2 xls xlsx xml xz zip"
    ).split()
)
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


@dataclass(frozen=True)
class SiteScope:
    host: str  # host[:port], lower-case
    path_prefix: str

    def contains(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.netloc == self.host and parts.path.startswith(self.path_prefix)


class SiteCrawler:
    kind = "site"
    lists_everything = True

    def __init__(self, client: HttpClient) -> None:
        self._client = client
        self._known: dict[str, KnownPage] = {}

    def crawl(self, source: SourceSpec, *, progress: Progress | None = None) -> Iterator[CrawlItem]:
        try:
            max_depth = int(source.options.get("max_depth", DEFAULT_MAX_DEPTH))
            max_pages = int(source.options.get("max_pages", DEFAULT_MAX_PAGES))
        except (TypeError, ValueError):
            yield CrawlFailure(source.url, f"The site options of {source.url} must be whole numbers.")
            return
        path_prefix = source.options.get("path_prefix") or ""
        start = normalise_url(source.url)
        if start is None or (path_prefix and not path_prefix.startswith("/")):
            yield CrawlFailure(source.url, f"{source.url} is not an http(s) URL with a path prefix starting with /.")
            return
        self._known = source.known
        try:
            first = self._client.get(start, accept=HTML_ACCEPT, **conditions(self._known.get(start)))
        except FetchError as exc:
            yield failure_from(source.url, exc)
            return
        if not first.not_modified and not is_html(first):
            yield CrawlFailure(source.url, f"{source.url} is not an HTML page (it is {first.content_type}).")
            return
        landed = normalise_url(first.url) or start
        scope = SiteScope(urlsplit(landed).netloc, path_prefix or _directory(urlsplit(landed).path))
        yield from self._breadth_first(start, first, scope, max_depth=max_depth, max_pages=max_pages, progress=progress)

    def _breadth_first(
        self,
        start: str,
        first: FetchResult,
        scope: SiteScope,
        *,
        max_depth: int,
        max_pages: int,
        progress: Progress | None,
    ) -> Iterator[CrawlItem]:
        queue: deque[tuple[str, int]] = deque([(start, 0)])
        seen = {start, normalise_url(first.url) or start}
        stored: set[str] = set()  # final URLs already yielded: redirects may lead two links to one page
        fetched = 0
        while queue and fetched < max_pages:
            url, depth = queue.popleft()
            fetched += 1
            try:
                known = self._known.get(url)
                result = first if fetched == 1 else self._client.get(url, accept=HTML_ACCEPT, **conditions(known))
            except FetchError as exc:
                failure = failure_from(url, exc)
                if not failure.gone:
                    self.lists_everything = False  # the links of an unreadable page are unknown
                yield failure
            else:
                if result.not_modified:  # unchanged since the last crawl: its links are those stored then
                    yield CrawlUnchanged(url, "304")
                    links = list(known.links) if known is not None else []
                else:
                    links = yield from _take_page(result, requested_url=url, scope=scope, stored=stored)
                if depth < max_depth:
                    for link in _followable(links, scope, seen):
                        seen.add(link)
                        queue.append((link, depth + 1))
            if progress is not None:
                progress(fetched, None)
        if queue:
            self.lists_everything = False  # stopped at max_pages


def _take_page(
    result: FetchResult, *, requested_url: str, scope: SiteScope, stored: set[str]
) -> Generator[CrawlItem, None, list[str]]:
    """Yield the page's article (or why there is none), if it is an HTML page of the site; return its links."""
    final = normalise_url(result.url) or requested_url
    if is_pdf(result) and scope.contains(final) and final not in stored:
        stored.add(final)
        yield pdf_document(result, requested_url=requested_url)
        return []
    if not is_html(result):
        yield CrawlSkipped(requested_url, f"Not a page: the answer is {result.content_type or 'of no stated type'}.")
        return []
    if not scope.contains(final):
        yield CrawlSkipped(requested_url, f"It redirects out of the crawled site, to {result.url}.")
        return []
    if final in stored:
        yield CrawlSkipped(requested_url, f"The same page as {final}, reached under another address.")
        return []
    stored.add(final)
    page = extract_article(result.text, url=result.url)
    if page is None:
        yield CrawlSkipped(requested_url, "No article text: a page of links only (its links are followed).")
        return extract_links(result.text, url=result.url)
    document = article_document(result, page, requested_url=requested_url)
    # Kept so that a re-crawl answered 304 can go on to the pages this one links to.
    document.metadata["links"] = [link for link in page.links if scope.contains(normalise_url(link) or "")]
    yield document
    return page.links


def normalise_url(url: str) -> str | None:
    """One spelling per page: lower-case scheme and host, no default port, no fragment, "/" for an empty path."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    netloc = netloc.removesuffix(_DEFAULT_PORTS[scheme])
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def _followable(links: list[str], scope: SiteScope, seen: set[str]) -> Iterator[str]:
    for link in links:
        url = normalise_url(link)
        if url is not None and url not in seen and scope.contains(url) and not _is_file(url):
            yield url


def _is_file(url: str) -> bool:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return "." in name and name.rsplit(".", 1)[-1].lower() in NON_PAGE_EXTENSIONS


def _directory(path: str) -> str:
    return path[: path.rfind("/") + 1] or "/"
