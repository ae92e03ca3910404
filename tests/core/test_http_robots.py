"""robots.txt as RFC 9309 reads it (longest match, wildcards), Crawl-delay, and conditional requests."""

import time

import pytest

from apps.core.http import RobotsDisallowedError
from tests.core.http_site import answer
from tests.core.test_http import ARTICLE

ROBOTS = """User-agent: *
Disallow: /private
Allow: /private/press-kit.html
Disallow: /*.pdf$
Disallow: /search?*q=
"""


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/private/press-kit.html", True),  # the longer Allow beats the shorter Disallow
        ("/private/notes.html", False),
        ("/papers/talk.pdf", False),  # * and $ are wildcards, not literal characters
        ("/papers/talk.pdf?download=1", True),  # $ anchors the end: this URL does not end in .pdf
        ("/search?page=2&q=gardens", False),
        ("/posts/1", True),
    ],
)
def test_robots_rules_follow_rfc_9309(site, client_for, path, allowed):
    site.routes["/robots.txt"] = answer(ROBOTS, content_type="text/plain")
    site.routes[path] = answer(ARTICLE)
    client = client_for(respect_robots=True)

    if allowed:
        assert client.get(site.url(path)).status == 200
    else:
        with pytest.raises(RobotsDisallowedError):
            client.get(site.url(path))


def test_crawl_delay_raises_the_pause_between_requests_to_that_host(site, client_for):
    site.routes["/robots.txt"] = answer("User-agent: *\nCrawl-delay: 0.4\n", content_type="text/plain")
    site.routes["/a"] = answer(ARTICLE)
    site.routes["/b"] = answer(ARTICLE)
    client = client_for(respect_robots=True, host_interval_s=0.05)

    started = time.monotonic()  # /a's turn comes no earlier than this, /b's 0.4 s after /a's
    client.get(site.url("/a"))
    client.get(site.url("/b"))

    assert client.host_interval_s(site.url("/b")) == 0.4
    page_b = next(request for request in site.seen if request.path == "/b")
    assert page_b.at - started >= 0.4


def test_a_crawl_delay_shorter_than_ours_never_lowers_the_pause(site, client_for):
    site.routes["/robots.txt"] = answer("User-agent: *\nCrawl-delay: 0.1\n", content_type="text/plain")
    site.routes["/a"] = answer(ARTICLE)
    client = client_for(respect_robots=True, host_interval_s=0.3)

    client.get(site.url("/a"))

    assert client.host_interval_s(site.url("/a")) == 0.3


def test_conditional_request_sends_the_validators_and_reads_a_304_as_not_modified(site, client_for):
    validators = {"ETag": '"v1"', "Last-Modified": "Tue, 01 Oct 2024 08:00:00 GMT"}
    site.routes["/post"] = answer(ARTICLE, headers=validators)
    client = client_for()

    first = client.get(site.url("/post"))
    site.routes["/post"] = answer(status=304, headers=validators)
    again = client.get(site.url("/post"), **first.validators)

    assert first.validators == {"etag": '"v1"', "last_modified": "Tue, 01 Oct 2024 08:00:00 GMT"}
    assert again.not_modified and again.content == b""
    assert site.seen[1].headers["if-none-match"] == '"v1"'
    assert site.seen[1].headers["if-modified-since"] == "Tue, 01 Oct 2024 08:00:00 GMT"
