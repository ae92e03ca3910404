"""SitemapCrawler against a real sitemap index, a .gz sitemap and a gzip sitemap without suffix, on 127.0.0.1."""

import gzip

import pytest

from apps.sources.crawlers.base import CrawledDocument, CrawlFailure, SourceSpec
from apps.sources.crawlers.sitemap import SitemapCrawler
from tests.sources.webserver import served_web_fixtures

URLSET = '<?xml version="1.0"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>'


@pytest.fixture
def web(tmp_path):
    for site in served_web_fixtures(tmp_path):
        blog = tmp_path / "blog"
        # One sitemap compressed with its .gz name, one compressed under a name that does not say so.
        (blog / "sitemap-pages.xml.gz").write_bytes(gzip.compress((blog / "sitemap-pages.xml").read_bytes()))
        (blog / "sitemap-archive").write_bytes(gzip.compress((blog / "sitemap-archive.xml").read_bytes()))
        (blog / "sitemap-pages.xml").unlink()
        (blog / "sitemap-archive.xml").unlink()
        yield site


def crawl(web, path: str, progress=None, **options) -> list:
    source = SourceSpec(url=web.base_url + path, kind="sitemap", options=options)
    with web.client() as client:
        return list(SitemapCrawler(client).crawl(source, progress=progress))


def paths(web, items) -> list[str]:
    return [item.url.removeprefix(web.base_url) for item in items]


def test_sitemap_index_with_plain_and_gzip_sitemaps_yields_every_listed_page_once(web):
    calls = []

    items = crawl(web, "/blog/sitemap_index.xml", progress=lambda done, total: calls.append((done, total)))

    assert paths(web, items) == [
        "/blog/posts/retry-with-backoff.html",
        "/blog/posts/timeouts.html",
        "/blog/posts/taken-down.html",
        "/blog/about.html",  # from the .gz sitemap
        "/blog/posts/circuit-breakers.html",
        "/blog/archive/2019/first-post.html",  # from the gzip sitemap without .gz in its name
    ]
    retry, timeouts, taken_down, about, breakers, first_post = items
    assert isinstance(taken_down, CrawlFailure) and taken_down.gone is True
    documents = [retry, timeouts, about, breakers, first_post]
    assert all(isinstance(document, CrawledDocument) for document in documents)
    assert retry.title == "Retrying with backoff, without the tears"
    assert "```python\nimport random" in retry.text
    assert retry.metadata["sitemap_lastmod"] == "2024-03-05T09:30:00+01:00"
    assert about.title == "About me"  # the site name is cut from the <title>
    assert first_post.text.startswith("# Hello, notebook")
    assert first_post.metadata["sitemap_lastmod"] == "2019-06-01"
    assert calls == [(done, None) for done in range(1, 7)]  # read as the crawl goes: no total up front
    # The URL of another host listed in the posts sitemap is skipped, not fetched.
    assert not any("localhost" in item.url for item in items)


def test_path_filter_is_a_regular_expression_on_the_path(web):
    items = crawl(web, "/blog/sitemap_index.xml", path_filter=r"^/blog/posts/(retry|circuit)")

    assert paths(web, items) == ["/blog/posts/retry-with-backoff.html", "/blog/posts/circuit-breakers.html"]
    assert "/blog/about.html" not in web.requested


def test_max_pages_caps_the_crawl_in_sitemap_order(web):
    items = crawl(web, "/blog/sitemap_index.xml", max_pages=2)

    assert paths(web, items) == ["/blog/posts/retry-with-backoff.html", "/blog/posts/timeouts.html"]


def test_unreadable_child_sitemap_is_a_failure_and_the_rest_is_crawled(web, tmp_path):
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{web.base_url}/blog/missing-sitemap.xml</loc></sitemap>"
        f"<sitemap><loc>{web.base_url}/blog/posts/timeouts.html</loc></sitemap>"
        f"<sitemap><loc>{web.base_url}/blog/sitemap-archive</loc></sitemap></sitemapindex>"
    )
    (tmp_path / "blog" / "partial-index.xml").write_text(index)

    missing, not_a_sitemap, first_post = crawl(web, "/blog/partial-index.xml")

    assert isinstance(missing, CrawlFailure) and missing.url.endswith("/blog/missing-sitemap.xml")
    assert isinstance(not_a_sitemap, CrawlFailure) and "is not well-formed XML" in not_a_sitemap.error
    assert isinstance(first_post, CrawledDocument) and first_post.url.endswith("/archive/2019/first-post.html")


@pytest.mark.parametrize(
    ("path", "message"),
    [("/blog/no-sitemap.xml", "404"), ("/blog/rss.xml", "is not a sitemap (its root element is <rss>)")],
)
def test_unreadable_sitemap_is_one_failure(web, path, message):
    [failure] = crawl(web, path)

    assert isinstance(failure, CrawlFailure)
    assert failure.url == web.base_url + path
    assert message in failure.error


def test_external_entities_are_never_resolved(web, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    sitemap = f'<?xml version="1.0"?>\n<!DOCTYPE urlset [<!ENTITY leak SYSTEM "file://{secret}">]>\n' + URLSET.split(
        "\n", 1
    )[1].format(f"<url><loc>{web.base_url}/blog/about.html?&leak;</loc></url>")
    (tmp_path / "blog" / "entity-sitemap.xml").write_text(sitemap)

    items = crawl(web, "/blog/entity-sitemap.xml")

    assert not any("TOPSECRET" in path for path in web.requested)
    assert not any("TOPSECRET" in item.url for item in items)


def test_invalid_path_filter_is_a_failure_of_the_source(web):
    [failure] = crawl(web, "/blog/sitemap_index.xml", path_filter="^/blog/(")

    assert isinstance(failure, CrawlFailure)
    assert "options" in failure.error
    assert web.requested == []
