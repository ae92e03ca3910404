"""An RSS or Atom feed -> the articles of its entries.

An entry's own content (content:encoded, Atom <content>) is used when it holds the whole post, that is
at least FULL_CONTENT_MIN_CHARS of text. Otherwise the entry carries only a summary (or a teaser cut
short), and the linked page is fetched and extracted instead.
"""

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser

from apps.core.http import FetchError, FetchResult, HttpClient
from apps.sources.crawlers.article import HTML_ACCEPT, article_document, conditions, failure_from, is_html
from apps.sources.crawlers.base import (
    CrawledDocument,
    CrawlFailure,
    CrawlItem,
    CrawlUnchanged,
    KnownPage,
    Progress,
    SourceSpec,
)
from apps.sources.crawlers.exports.convert import article_text
from apps.sources.crawlers.extract import extract_article, extract_fragment_text

FEED_ACCEPT = "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.8,*/*;q=0.1"
FULL_CONTENT_MIN_CHARS = 400
SUBTITLE_MAX_CHARS = 300


class FeedCrawler:
    kind = "feed"
    lists_everything = False  # a feed lists recent entries only

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    def crawl(self, source: SourceSpec, *, progress: Progress | None = None) -> Iterator[CrawlItem]:
        try:
            result = self._client.get(source.url, accept=FEED_ACCEPT)
        except FetchError as exc:
            yield failure_from(source.url, exc)
            return
        # Parse the bytes we fetched: given a URL, feedparser would fetch it itself, past the client's rules.
        feed = feedparser.parse(io.BytesIO(result.content), response_headers=_parser_headers(result))
        if not feed.entries and (feed.bozo or not feed.version):
            yield CrawlFailure(source.url, f"{source.url} is not an RSS or Atom feed.")
            return
        language = _language(feed.feed.get("language", ""))
        feed_author = _entry_author(feed.feed)  # Atom: a feed-level <author> covers entries without their own
        seen: set[str] = set()
        for done, entry in enumerate(feed.entries, start=1):
            url = entry.get("link") or entry.get("id") or ""
            if url and url not in seen:
                seen.add(url)
                known = source.known.get(url)
                listed = _entry_listed_at(entry)
                if known is not None and listed and known.listed_at == listed:
                    yield CrawlUnchanged(url, "feed date")  # the entry says it has not changed: no fetch
                else:
                    item = self._entry_article(entry, url, language, feed_author, known)
                    if isinstance(item, CrawledDocument):
                        item.listed_at = listed
                    yield item
            if progress is not None:
                progress(done, len(feed.entries))

    def _entry_article(
        self, entry: Any, url: str, feed_language: str, feed_author: str, known: KnownPage | None
    ) -> CrawlItem:
        content = max((part.get("value", "") for part in entry.get("content", [])), key=len, default="")
        text = extract_fragment_text(content, url=url) if content else ""
        if len(text) < FULL_CONTENT_MIN_CHARS and entry.get("link"):
            fetched = self._fetch_page(entry, url, feed_author, known)
            if fetched is not None:
                return fetched
        summary = extract_fragment_text(entry.get("summary", ""), url=url)
        if not text:
            text, summary = summary, ""
        if not text:
            return CrawlFailure(url, f"The feed entry {url} has no text, and its page could not be read.")
        # Written as an export writes the same post (title, subtitle, body), so both copies hash alike.
        title = entry.get("title", "") or ""
        subtitle = summary if _is_subtitle(summary, text) else ""
        return CrawledDocument(
            url=url,
            text=article_text(title, text, subtitle=subtitle),
            title=entry.get("title", "") or url,
            raw_content=content or entry.get("summary", ""),
            content_type="article",
            published_at=_entry_date(entry),
            author_name=_entry_author(entry) or feed_author,
            language=feed_language,
            metadata={"from": "feed entry"},
        )

    def _fetch_page(self, entry: Any, url: str, feed_author: str, known: KnownPage | None) -> CrawlItem | None:
        """The entry's page as an article; None when the page has no article (the entry's own text is used)."""
        try:
            result = self._client.get(entry["link"], accept=HTML_ACCEPT, **conditions(known))
        except FetchError as exc:
            return failure_from(url, exc)
        if result.not_modified:
            return CrawlUnchanged(url, "304")
        page = extract_article(result.text, url=result.url) if is_html(result) else None
        if page is None:
            return None
        document = article_document(result, page, requested_url=url)
        document.title = entry.get("title", "") or document.title
        document.published_at = _entry_date(entry) or document.published_at
        document.author_name = document.author_name or _entry_author(entry) or feed_author
        document.metadata["from"] = "linked page"
        return document


def _parser_headers(result: FetchResult) -> dict[str, str]:
    # content-location lets feedparser resolve relative links against the feed's own URL.
    return {"content-location": result.url, "content-type": result.headers.get("content-type", "application/xml")}


def _is_subtitle(summary: str, body: str) -> bool:
    """A short description that is not the body's opening cut short (a teaser) is the post's subtitle."""
    stem = summary.rstrip("…. ").strip()
    return bool(stem) and len(summary) <= SUBTITLE_MAX_CHARS and "\n" not in summary and stem not in body


def _entry_listed_at(entry: Any) -> str:
    """The entry's own last-change date as the feed writes it: what a re-crawl compares."""
    # dict.get: feedparser's own get() maps a missing "updated" to "published", with a warning.
    return str(dict.get(entry, "updated") or dict.get(entry, "published") or "").strip()


def _entry_date(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")  # a UTC struct_time
    return datetime(*parsed[:6], tzinfo=UTC) if parsed else None


def _entry_author(entry: Any) -> str:
    # RSS <author> is "mail (Name)"; feedparser puts the name alone in author_detail.
    return entry.get("author_detail", {}).get("name", "") or entry.get("author", "")


def _language(code: str) -> str:
    code = code.strip().split("-")[0].lower()
    return code if len(code) == 2 and code.isalpha() else ""
