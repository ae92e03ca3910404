"""One web page -> one article. Also the page fetching that the feed, sitemap and site crawlers share."""

from collections.abc import Iterator

from apps.core.http import FetchError, FetchResult, HttpClient
from apps.sources.crawlers.base import (
    CrawledDocument,
    CrawlFailure,
    CrawlItem,
    CrawlUnchanged,
    KnownPage,
    Progress,
    SourceSpec,
)
from apps.sources.crawlers.extract import ExtractedPage, extract_article
from lib.documents import DocumentError, pdf_text

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,application/pdf;q=0.8,*/*;q=0.1"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HTML_MARKERS = (b"<!doctype html", b"<html")


class ArticleCrawler:
    """The source is one page (a blog post, an essay): it yields that page's article."""

    kind = "article"
    lists_everything = True  # the source is exactly its one page

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    def crawl(self, source: SourceSpec, *, progress: Progress | None = None) -> Iterator[CrawlItem]:
        yield fetch_article(self._client, source.url, known=source.known.get(source.url))
        if progress is not None:
            progress(1, 1)


def fetch_article(client: HttpClient, url: str, *, known: KnownPage | None = None) -> CrawlItem:
    """The article at url, CrawlUnchanged when the copy held is current (304), or a CrawlFailure saying why not."""
    try:
        result = client.get(url, accept=HTML_ACCEPT, **conditions(known))
    except FetchError as exc:
        return failure_from(url, exc)
    if result.not_modified:
        return CrawlUnchanged(url, "304")
    if is_pdf(result):
        return pdf_document(result, requested_url=url)
    if not is_html(result):
        return CrawlFailure(url, f"{url} is not an HTML page (it is {result.content_type}).")
    page = extract_article(result.text, url=result.url)
    if page is None:
        return CrawlFailure(url, f"{url} has no article text that could be extracted.")
    return article_document(result, page, requested_url=url)


def article_document(result: FetchResult, page: ExtractedPage, *, requested_url: str) -> CrawledDocument:
    metadata = {"requested_url": requested_url} if requested_url != result.url else {}
    return CrawledDocument(
        url=result.url,  # after redirects, so two links to one page make one document
        text=page.text,
        title=page.title or _first_heading(page.text) or result.url,
        raw_content=result.text,
        content_type="article",
        published_at=page.published_at,
        author_name=page.author,
        language=page.language,
        metadata={**metadata, **({"extraction": "trafilatura defaults"} if page.fallback else {})},
        etag=result.validators.get("etag", ""),
        last_modified=result.validators.get("last_modified", ""),
    )


def is_pdf(result: FetchResult) -> bool:
    return result.content_type == "application/pdf" or result.content.startswith(b"%PDF-")


def pdf_document(result: FetchResult, *, requested_url: str) -> CrawledDocument | CrawlFailure:
    """A PDF's text layer as a document; a scan (no text layer) is a failure that says so."""
    try:
        found = pdf_text(result.content)
    except DocumentError as exc:
        return CrawlFailure(requested_url, f"{result.url} could not be read: {exc}.")
    return CrawledDocument(
        url=result.url,
        text=found.text,
        title=found.title or found.text.split("\n", 1)[0].strip()[:200] or result.url,
        raw_content="",  # binary; the text is what is kept
        published_at=found.created_at,
        author_name=found.author,
        metadata={"format": "pdf", **({"requested_url": requested_url} if requested_url != result.url else {})},
        etag=result.validators.get("etag", ""),
        last_modified=result.validators.get("last_modified", ""),
    )


def conditions(known: KnownPage | None) -> dict[str, str]:
    """The validators to send for a page held already: an unchanged page then costs a 304."""
    return {"etag": known.etag, "last_modified": known.last_modified} if known is not None else {}


def failure_from(url: str, exc: FetchError) -> CrawlFailure:
    return CrawlFailure(url, str(exc), gone=getattr(exc, "gone", False))


def is_html(result: FetchResult) -> bool:
    if result.content_type:
        return result.content_type in _HTML_TYPES
    return any(marker in result.content[:1024].lower() for marker in _HTML_MARKERS)  # a server that does not say


def _first_heading(text: str) -> str:
    return next((line.lstrip("#").strip() for line in text.splitlines() if line.startswith("# ")), "")
