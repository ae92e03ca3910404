"""The crawler HTTP client against a real server on 127.0.0.1: limits, statuses, robots, pacing, bot checks, text."""

import gzip
import threading
import time

import pytest

from apps.core.http import (
    BotChallengeError,
    FetchError,
    HttpClient,
    HttpStatusError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    TooManyRedirectsError,
)
from tests.core.conftest import USER_AGENT  # noqa: F401 - named in assertions
from tests.core.http_site import answer, endless, redirect

ARTICLE = "<html><head><title>On gardens</title></head><body><article><p>I plant tomatoes in May.</p></article></body>"


def test_page_is_fetched_with_an_honest_user_agent(site, client_for):
    site.routes["/post"] = answer(ARTICLE, headers={"X-Served-By": "garden"})

    result = client_for().get(site.url("/post"), accept="text/html")

    assert (result.status, result.url, result.content_type) == (200, site.url("/post"), "text/html")
    assert "I plant tomatoes in May." in result.text
    assert result.headers["x-served-by"] == "garden"
    assert site.seen[0].headers["user-agent"] == USER_AGENT
    assert site.seen[0].headers["accept"] == "text/html"


def test_redirects_are_followed_with_relative_locations(site, client_for):
    site.routes["/old/post"] = redirect("../new/post?ref=1", status=301)
    site.routes["/new/post?ref=1"] = answer(ARTICLE)

    result = client_for().get(site.url("/old/post"))

    assert result.url == site.url("/new/post?ref=1")
    assert site.paths_seen() == ["/old/post", "/new/post?ref=1"]


def test_redirect_loops_stop_after_max_redirects(site, client_for):
    for hop in range(10):
        site.routes[f"/hop/{hop}"] = redirect(f"/hop/{hop + 1}")

    with pytest.raises(TooManyRedirectsError, match="redirected more than 3 times"):
        client_for(max_redirects=3).get(site.url("/hop/0"))
    assert len(site.seen) == 4


@pytest.mark.parametrize(("status", "gone"), [(404, True), (410, True), (500, False), (401, False)])
def test_error_statuses_raise_and_say_whether_the_page_is_gone(site, client_for, status, gone):
    site.routes["/post"] = answer("<p>no</p>", status=status)

    with pytest.raises(HttpStatusError) as caught:
        client_for().get(site.url("/post"))

    assert (caught.value.status, caught.value.gone) == (status, gone)
    assert site.url("/post") in str(caught.value)


def test_declared_oversized_body_is_refused_without_reading_it(site, client_for):
    site.routes["/big"] = answer(b"x" * (3 * 1024 * 1024))

    with pytest.raises(ResponseTooLargeError, match="3145728 bytes"):
        client_for(max_bytes=1024 * 1024).get(site.url("/big"))


def test_undeclared_oversized_body_is_cut_off_while_streaming(site, client_for):
    site.routes["/stream"] = endless(b"<p>more words</p>" * 1000)

    with pytest.raises(ResponseTooLargeError, match="larger than the 1048576-byte limit"):
        client_for(max_bytes=1024 * 1024).get(site.url("/stream"))


def test_gzip_bomb_is_measured_after_decompression(site, client_for):
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))
    site.routes["/bomb"] = answer(bomb, headers={"Content-Encoding": "gzip"})
    assert len(bomb) < 100 * 1024

    with pytest.raises(ResponseTooLargeError):
        client_for(max_bytes=1024 * 1024).get(site.url("/bomb"))


def test_slow_body_is_abandoned_at_the_deadline(site, client_for):
    site.routes["/drip"] = endless(b"<p>.</p>", every_s=0.1)

    started = time.monotonic()
    with pytest.raises(FetchError, match="took longer than 1 s"):
        client_for(timeout_s=1.0).get(site.url("/drip"))
    assert time.monotonic() - started < 3


def test_robots_disallow_is_honoured_and_fetched_once(site, client_for):
    site.routes["/robots.txt"] = answer("User-agent: *\nDisallow: /drafts/\n", content_type="text/plain")
    site.routes["/posts/1"] = answer(ARTICLE)
    client = client_for(respect_robots=True)

    with pytest.raises(RobotsDisallowedError, match="robots.txt"):
        client.get(site.url("/drafts/1"))
    assert client.get(site.url("/posts/1")).status == 200
    assert site.paths_seen() == ["/robots.txt", "/posts/1"]


def test_robots_group_naming_our_bot_applies_to_us(site, client_for):
    robots = "User-agent: TwinsiteTest\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    site.routes["/robots.txt"] = answer(robots, content_type="text/plain")

    with pytest.raises(RobotsDisallowedError):
        client_for(respect_robots=True).get(site.url("/posts/1"))


@pytest.mark.parametrize(("robots_status", "allowed"), [(404, True), (500, True), (403, False), (401, False)])
def test_unavailable_robots_allows_but_forbidden_robots_disallows(site, client_for, robots_status, allowed):
    site.routes["/robots.txt"] = answer("nope", status=robots_status, content_type="text/plain")
    site.routes["/posts/1"] = answer(ARTICLE)
    client = client_for(respect_robots=True)

    if allowed:
        assert client.get(site.url("/posts/1")).status == 200
    else:
        with pytest.raises(RobotsDisallowedError):
            client.get(site.url("/posts/1"))


def test_requests_to_one_host_are_spaced_by_the_interval(site, client_for):
    site.routes["/a"] = answer(ARTICLE)
    site.routes["/b"] = answer(ARTICLE)
    client = client_for(host_interval_s=0.3)

    # Measured from before the first request: /b's turn comes 0.3 s after /a's, which came no earlier than
    # this; a server slow to note /a's arrival cannot make it fail (it could when /b was measured from it).
    started = time.monotonic()
    client.get(site.url("/a"))
    client.get(site.url("/b"))

    assert site.seen[1].at - started >= 0.3


def test_pacing_holds_across_threads(site, client_for):
    site.routes["/a"] = answer(ARTICLE)
    client = client_for(host_interval_s=0.2)

    started = time.monotonic()  # the three turns: no earlier than this, then 0.2 s and 0.4 s later
    threads = [threading.Thread(target=client.get, args=(site.url("/a"),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    arrivals = sorted(request.at for request in site.seen)
    assert len(arrivals) == 3
    assert arrivals[1] - started >= 0.2 and arrivals[2] - started >= 0.4


CLOUDFLARE_CHALLENGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    "<noscript>Enable JavaScript and cookies to continue</noscript>"
    "<script>window._cf_chl_opt={cvId: '3'};</script></body></html>"
)
CAPTCHA_WALL = (
    "<html><head><title>Security check</title></head><body><h1>Verify you are human</h1>"
    '<div class="g-recaptcha" data-sitekey="x"></div></body></html>'
)


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (403, CLOUDFLARE_CHALLENGE, {"cf-mitigated": "challenge"}),
        (200, CLOUDFLARE_CHALLENGE, {}),
        (503, "<html><body><h2>Checking your browser before accessing blog.example.</h2></body></html>", {}),
        (403, "<html><head><title>Attention Required! | Cloudflare</title></head><body>Blocked</body></html>", {}),
        (200, CAPTCHA_WALL, {}),
    ],
)
def test_bot_challenge_pages_are_failures_not_content(site, client_for, status, body, headers):
    site.routes["/post"] = answer(body, status=status, headers=headers)

    with pytest.raises(BotChallengeError, match="bot check"):
        client_for().get(site.url("/post"))


def test_article_that_mentions_challenge_phrases_is_content(site, client_for):
    paragraphs = "".join(f"<p>Paragraph {n} about how I debugged my build pipeline this week.</p>" for n in range(40))
    article = (
        "<html><head><title>Why my blog shows 'Just a moment...'</title></head><body><article>"
        "<p>Readers saw 'Enable JavaScript and cookies to continue' and a g-recaptcha box.</p>"
        f"{paragraphs}</article></body></html>"
    )
    site.routes["/post"] = answer(article)

    assert "Paragraph 39" in client_for().get(site.url("/post")).text


def test_meta_charset_decodes_latin1_page(site, client_for):
    page = '<html><head><meta charset="iso-8859-1"><title>Café</title></head><body><p>Crème brûlée, naïve</p>'
    site.routes["/post"] = answer(page.encode("iso-8859-1"), content_type="text/html")

    result = client_for().get(site.url("/post"))

    assert result.encoding == "iso-8859-1"
    assert "Crème brûlée, naïve" in result.text


def test_latin1_label_decodes_windows_1252_quotes_like_browsers(site, client_for):
    page = b'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><p>\x93Quoted\x94 text</p>'
    site.routes["/post"] = answer(page, content_type="text/html")

    assert "\u201cQuoted\u201d text" in client_for().get(site.url("/post")).text


def test_content_type_charset_wins_over_meta(site, client_for):
    page = '<meta charset="iso-8859-1"><p>Crème brûlée</p>'
    site.routes["/post"] = answer(page.encode("utf-8"), content_type="text/html; charset=UTF-8")

    result = client_for().get(site.url("/post"))

    assert (result.encoding, "Crème brûlée" in result.text) == ("utf-8", True)


def test_xml_declaration_gives_the_feed_encoding(site, client_for):
    feed = "<?xml version='1.0' encoding='ISO-8859-15'?><rss><channel><title>Déjà vu €</title></channel></rss>"
    site.routes["/feed"] = answer(feed.encode("iso-8859-15"), content_type="application/rss+xml")

    result = client_for().get(site.url("/feed"))

    assert result.encoding == "iso-8859-15"
    assert "Déjà vu €" in result.text


def test_undeclared_encoding_is_detected(site, client_for):
    text = "Les élèves étaient très contents de la fête à l'école, même après une journée éprouvante. " * 20
    site.routes["/post"] = answer(f"<p>{text}</p>".encode("cp1252"), content_type="text/html")

    result = client_for().get(site.url("/post"))

    assert result.encoding is None
    assert "élèves étaient très contents de la fête" in result.text


def test_client_from_settings_uses_the_crawler_settings(site, settings):
    settings.CRAWLER_ALLOWED_HOSTS = [f"127.0.0.1:{site.port}"]
    settings.CRAWLER_USER_AGENT = "SettingsBot/2.0 (+https://twinsite.example/bot)"
    settings.CRAWLER_RESPECT_ROBOTS = True
    settings.CRAWLER_HOST_INTERVAL_S = 0.0
    site.routes["/post"] = answer(ARTICLE)

    with HttpClient.from_settings() as client:
        client.get(site.url("/post"))

    assert site.paths_seen() == ["/robots.txt", "/post"]
    assert site.seen[1].headers["user-agent"] == "SettingsBot/2.0 (+https://twinsite.example/bot)"
