"""ArticleCrawler against real pages served on 127.0.0.1."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from apps.sources.crawlers.article import ArticleCrawler
from apps.sources.crawlers.base import CrawledDocument, CrawlFailure, SourceSpec
from tests.sources.webserver import served_web_fixtures


@pytest.fixture
def web(tmp_path):
    yield from served_web_fixtures(tmp_path)


def crawl(web, path: str, progress=None) -> list:
    with web.client() as client:
        return list(
            ArticleCrawler(client).crawl(SourceSpec(url=web.base_url + path, kind="article"), progress=progress)
        )


def test_blog_post_becomes_one_article_with_its_metadata_and_code(web):
    calls = []

    items = crawl(web, "/blog/posts/retry-with-backoff.html", progress=lambda done, total: calls.append((done, total)))

    assert len(items) == 1
    document = items[0]
    assert isinstance(document, CrawledDocument)
    assert document.url == web.base_url + "/blog/posts/retry-with-backoff.html"
    assert document.title == "Retrying with backoff, without the tears"
    assert document.author_name == "Ada Lovelace"
    assert document.published_at == datetime(2024, 3, 5, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert document.published_at.astimezone(UTC) == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert document.language == "en"
    assert document.content_type == "article"
    assert "```python\nimport random\nimport time\n\n\ndef retry(call, *, attempts=5" in document.text
    assert "## Why full jitter" in document.text
    assert "Subscribe via RSS" not in document.text and "All rights reserved" not in document.text
    assert document.raw_content.startswith("<!DOCTYPE html>")
    assert calls == [(1, 1)]


def test_page_in_latin1_is_decoded_by_its_declared_charset(web):
    [document] = crawl(web, "/blog/posts/cafe-latin1.html")

    assert isinstance(document, CrawledDocument)
    assert document.title == "Le café des scripts"
    assert document.author_name == "Stéphane Chazelas"
    assert "Chaque matin au café, Stéphane relit ses scripts shell à voix haute." in document.text
    assert document.language == "fr"


def test_missing_page_is_a_failure_marked_gone(web):
    [failure] = crawl(web, "/blog/posts/taken-down.html")

    assert isinstance(failure, CrawlFailure)
    assert failure.gone is True
    assert failure.url == web.base_url + "/blog/posts/taken-down.html"
    assert "404" in failure.error


def test_a_feed_is_not_an_article(web):
    [failure] = crawl(web, "/blog/rss.xml")

    assert isinstance(failure, CrawlFailure)
    assert failure.gone is False
    assert "is not an HTML page" in failure.error


def test_refused_address_is_a_failure_not_an_exception(web):
    with web.client() as client:
        url = web.other_host + "/blog/posts/timeouts.html"  # localhost: loopback, not on the allow-list
        [failure] = ArticleCrawler(client).crawl(SourceSpec(url=url, kind="article"))

    assert isinstance(failure, CrawlFailure)
    assert failure.url == url
    assert failure.gone is False
    assert "/blog/posts/timeouts.html" not in web.requested


def test_a_pdf_on_a_site_is_read_by_its_text_layer_and_a_scan_is_a_failure(tmp_path, crawl_settings):
    import shutil

    from tests.sources.exports import EXPORTS
    from tests.sources.webserver import serve_directory

    for name in ("shared-mime-info-spec-p1-3.pdf", "scanned-page.pdf"):
        shutil.copy(EXPORTS / "pdf" / name, tmp_path / name)
    with serve_directory(tmp_path) as site, site.client() as client:
        crawler = ArticleCrawler(client)
        [spec] = crawler.crawl(SourceSpec(url=f"{site.base_url}/shared-mime-info-spec-p1-3.pdf", kind="article"))
        [scan] = crawler.crawl(SourceSpec(url=f"{site.base_url}/scanned-page.pdf", kind="article"))

    assert isinstance(spec, CrawledDocument)
    assert spec.title == "Shared MIME-info Database"
    assert spec.metadata["format"] == "pdf"
    assert "1.2. What is this spec?" in spec.text
    assert isinstance(scan, CrawlFailure)
    assert scan.error == (
        f"{site.base_url}/scanned-page.pdf could not be read: its 1 page(s) have no text layer (a scanned PDF?);"
        " OCR is not done here."
    )
