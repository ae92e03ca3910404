"""FeedCrawler against real RSS and Atom feeds served on 127.0.0.1."""

from datetime import UTC, datetime

import pytest

from apps.sources.crawlers.base import CrawledDocument, CrawlFailure, SourceSpec
from apps.sources.crawlers.feed import FeedCrawler
from tests.sources.webserver import served_web_fixtures


@pytest.fixture
def web(tmp_path):
    yield from served_web_fixtures(tmp_path)


def crawl(web, path: str, progress=None) -> list:
    with web.client() as client:
        return list(FeedCrawler(client).crawl(SourceSpec(url=web.base_url + path, kind="feed"), progress=progress))


def test_rss_with_summaries_or_teasers_fetches_each_linked_page(web):
    calls = []

    items = crawl(web, "/blog/rss.xml", progress=lambda done, total: calls.append((done, total)))

    retry, timeouts, breakers, taken_down = items
    assert all(isinstance(item, CrawledDocument) for item in (retry, timeouts, breakers))
    assert retry.url == web.base_url + "/blog/posts/retry-with-backoff.html"
    assert retry.title == "Retrying with backoff, without the tears"
    assert retry.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)  # the entry's pubDate
    assert retry.author_name == "Ada Lovelace"
    # The whole post from its page, not the one-sentence summary of the feed.
    assert "## The helper" in retry.text
    assert "```python\nimport random\nimport time\n\n\ndef retry(" in retry.text
    assert "Subscribe via RSS" not in retry.text
    assert "```go\nctx, cancel := context.WithTimeout(ctx, 800*time.Millisecond)\ndefer cancel()\n\n" in timeouts.text
    assert timeouts.published_at == datetime(2024, 2, 11, 18, 5, tzinfo=UTC)
    # A content:encoded teaser is not the post either: its page is fetched.
    assert "Half-open lets a single trial call through" in breakers.text
    assert "Read the rest of the post" not in breakers.text
    assert isinstance(taken_down, CrawlFailure)
    assert taken_down.url == web.base_url + "/blog/posts/taken-down.html"
    assert taken_down.gone is True
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_atom_with_full_content_uses_the_entries_without_fetching_pages(web):
    idempotency, back_pressure = crawl(web, "/blog/atom.xml")

    assert isinstance(idempotency, CrawledDocument) and isinstance(back_pressure, CrawledDocument)
    assert idempotency.url == web.base_url + "/blog/posts/idempotency-keys.html"
    assert idempotency.title == "Idempotency keys, explained with a vending machine"
    assert idempotency.published_at == datetime(2024, 4, 2, 8, 0, tzinfo=UTC)  # <published>, not <updated>
    assert idempotency.author_name == "Ada Lovelace"
    assert idempotency.language == "en"
    # Title and summary head the text, as an export writes the same post.
    assert idempotency.text.startswith(
        "# Idempotency keys, explained with a vending machine\n\n"
        "A retry is only safe when the server can tell it is a retry.\n\n"
        "A vending machine that takes your coin, jams, and takes your second coin"
    )
    assert "## The server side" in idempotency.text
    assert (
        "```sql\nCREATE TABLE idempotency_keys (\n    key        text PRIMARY KEY,\n    response   jsonb NOT NULL,\n\n"
        "    created_at timestamptz NOT NULL DEFAULT now()\n);\n```" in idempotency.text
    )
    assert "- Bound every queue, and decide what happens when it is full." in back_pressure.text
    # The linked pages do not exist on the server: fetching them would have turned into failures.
    assert not any(path.startswith("/blog/posts/") for path in web.requested)


def test_html_page_is_not_a_feed(web):
    [failure] = crawl(web, "/blog/posts/timeouts.html")

    assert isinstance(failure, CrawlFailure)
    assert failure.url == web.base_url + "/blog/posts/timeouts.html"
    assert "is not an RSS or Atom feed" in failure.error


def test_missing_feed_is_one_failure(web):
    [failure] = crawl(web, "/blog/feed.xml")

    assert isinstance(failure, CrawlFailure)
    assert failure.url == web.base_url + "/blog/feed.xml"
    assert "404" in failure.error


def test_a_feed_does_not_list_everything():
    assert FeedCrawler.lists_everything is False
