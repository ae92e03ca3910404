"""SiteCrawler on a small served site, and on the real ABS guide (117 pages of 2014 DocBook HTML)."""

from collections import Counter

import pytest

from apps.sources.crawlers.base import CrawledDocument, CrawlFailure, CrawlSkipped, SourceSpec
from apps.sources.crawlers.site import SiteCrawler, normalise_url
from tests.sources.webserver import ABS_GUIDE, needs_abs_guide, serve_directory, served_web_fixtures

# Example 2-2 of the ABS guide, line numbers and no-break spaces included, as the book prints it.
CLEANUP_V2 = (
    "   1\xa0#!/bin/bash\n   2\xa0# Proper header for a Bash script.\n   3\xa0\n   4\xa0# Cleanup, version 2\n"
    "   5\xa0\n   6\xa0# Run as root, of course.\n"
    "   7\xa0# Insert code here to print error message and exit if not root.\n"
    "   8\xa0\n   9\xa0LOG_DIR=/var/log\n  10\xa0# Variables are better than hard-coded values.\n  11\xa0cd $LOG_DIR\n"
    "  12\xa0\n  13\xa0cat /dev/null > messages\n  14\xa0cat /dev/null > wtmp\n  15\xa0\n  16\xa0\n"
    '  17\xa0echo "Logs cleaned up."\n  18\xa0\n'
    '  19\xa0exit #  The right and proper method of "exiting" from a script.\n'
    '  20\xa0     #  A bare "exit" (no parameter) returns the exit status\n'
    "  21\xa0     #+ of the preceding command. "
)


@pytest.fixture
def web(tmp_path):
    yield from served_web_fixtures(tmp_path)


def crawl(site, path: str, progress=None, **options) -> list:
    source = SourceSpec(url=site.base_url + path, kind="site", options=options)
    with site.client() as client:
        return list(SiteCrawler(client).crawl(source, progress=progress))


def paths(site, items) -> list[str]:
    return [item.url.removeprefix(site.base_url) for item in items]


def test_crawl_stays_in_the_start_directory_on_one_host_breadth_first(web):
    calls = []

    items = crawl(web, "/site/docs/index.html", progress=lambda done, total: calls.append((done, total)))

    assert paths(web, items) == [
        "/site/docs/index.html",
        "/site/docs/api.html",
        "/site/docs/guide/intro.html",
        "/site/docs/data",  # not a page: skipped, with its reason
        "/site/docs/private/notes.html",  # disallowed by robots.txt: a failure, not a page
        "/site/docs/guide/advanced.html",
        "/site/docs/guide/deep/level2.html",
        "/site/docs/guide/deep/level3.html",  # three links away: the default max_depth
    ]
    failure = items[4]
    assert isinstance(failure, CrawlFailure) and "robots.txt" in failure.error
    documents = [item for item in items if isinstance(item, CrawledDocument)]
    assert [document.title for document in documents] == [
        "Queue handbook",
        "API reference",
        "Introduction",
        "Advanced topics",
        "Partitioning",
        "Rebalancing",
    ]
    enqueue = (
        "```http\nPOST /v1/queues/{name}/messages\nContent-Type: application/json\n\n"
        '{"body": "hello", "delay_s": 0}\n```'
    )
    assert enqueue in documents[1].text
    fetched = set(web.requested)
    assert "/site/other/outside.html" not in fetched  # out of the path prefix
    assert "/site/docs/diagram.png" not in fetched  # not a page, by its extension
    assert "/site/docs/guide/deep/level4.html" not in fetched  # past max_depth
    assert "/site/docs/data" in fetched  # no extension: fetched, then skipped by its Content-Type
    [data] = [item for item in items if isinstance(item, CrawlSkipped)]  # and the run says why
    assert (data.url, data.reason) == (
        web.base_url + "/site/docs/data",
        "Not a page: the answer is application/octet-stream.",
    )
    assert web.requested.count("/site/docs/guide/intro.html") == 1  # the #setup link is the same page
    assert not any("localhost" in item.url or "example.com" in item.url for item in items)
    assert calls == [(done, None) for done in range(1, 9)]  # 8 fetches: 6 pages, the data file, the refusal


def test_max_depth_and_max_pages_bound_the_crawl(web):
    shallow = crawl(web, "/site/docs/index.html", max_depth=1)
    capped = crawl(web, "/site/docs/index.html", max_pages=2)

    assert paths(web, shallow) == [
        "/site/docs/index.html",
        "/site/docs/api.html",
        "/site/docs/guide/intro.html",
        "/site/docs/data",  # skipped, with its reason
        "/site/docs/private/notes.html",
    ]
    assert paths(web, capped) == ["/site/docs/index.html", "/site/docs/api.html"]


def test_path_prefix_option_widens_the_crawl(web):
    items = crawl(web, "/site/docs/index.html", path_prefix="/site/", max_depth=1)

    assert "/site/other/outside.html" in paths(web, items)


def test_unreachable_start_page_is_one_failure(web):
    [failure] = crawl(web, "/site/docs/missing.html")

    assert isinstance(failure, CrawlFailure)
    assert failure.url == web.base_url + "/site/docs/missing.html"
    assert failure.gone is True


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("HTTP://Example.COM:80/a/b.html#part", "http://example.com/a/b.html"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x?q=1", "https://example.com:8443/x?q=1"),
        ("mailto:someone@example.com", None),
        ("ftp://example.com/file", None),
    ],
)
def test_normalise_url(url, normalised):
    assert normalise_url(url) == normalised


@needs_abs_guide
def test_the_abs_guide_crawled_as_a_site():
    with serve_directory(ABS_GUIDE) as book:
        items = crawl(book, "/index.html")

    documents = [item for item in items if isinstance(item, CrawledDocument)]
    failures = [item for item in items if isinstance(item, CrawlFailure)]
    assert len(documents) == 117  # every page of the book, each once
    assert len({document.url for document in documents}) == 117
    # The book links to "linuxjournal.com" without a scheme: a relative link that does not exist.
    assert [failure.url.removeprefix(book.base_url) for failure in failures] == ["/linuxjournal.com"]
    titles = {document.url.rsplit("/", 1)[1]: document.title for document in documents}
    assert titles["index.html"] == "Advanced Bash-Scripting Guide"
    assert titles["sha-bang.html"] == "Starting Off With a Sha-Bang"
    assert titles["here-docs.html"] == "Here Documents"
    assert titles["arrays.html"] == "Chapter 27. Arrays"
    assert len(set(titles.values())) == 117  # every title names its own page
    assert all(document.language == "en" and document.published_at is None for document in documents)
    sha_bang = next(document for document in documents if document.url.endswith("/sha-bang.html"))
    assert f"```\n{CLEANUP_V2}\n```" in sha_bang.text
    assert "# 2.1. Invoking the script" in sha_bang.text.split("\n\n")
    assert Counter(line for document in documents for line in document.text.splitlines())["Prev"] == 0
