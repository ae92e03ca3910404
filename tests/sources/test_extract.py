"""HTML -> text extraction on real pages: a blog post with navigation, and the ABS guide's old DocBook markup."""

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from apps.sources.crawlers.extract import extract_article, extract_fragment_text, extract_links
from lib.text.cleaning import split_code_fences
from tests.sources.webserver import ABS_GUIDE, WEB_FIXTURES, needs_abs_guide

RETRY_CODE = '''import random
import time


def retry(call, *, attempts=5, base_s=0.5, cap_s=30.0):
    """Call `call` until it succeeds, sleeping a jittered, doubling delay in between."""
    for attempt in range(attempts):
        try:
            return call()
        except ConnectionError:
            if attempt == attempts - 1:
                raise
            # Full jitter: a random delay in [0, min(cap, base * 2**attempt)].
            time.sleep(random.uniform(0, min(cap_s, base_s * 2 ** attempt)))
    return None  # unreachable, but keeps type checkers quiet & happy when attempts < 1'''

# Example 2-1 of the ABS guide, with its line numbers and the no-break spaces after them, as the page has it.
CLEANUP_EXAMPLE = "\n".join(
    [
        "   1\xa0# Cleanup",
        "   2\xa0# Run as root, of course.",
        "   3\xa0",
        "   4\xa0cd /var/log",
        "   5\xa0cat /dev/null > messages",
        "   6\xa0cat /dev/null > wtmp",
        '   7\xa0echo "Log files cleaned up."',
    ]
)


def blog_post() -> str:
    return (WEB_FIXTURES / "blog" / "posts" / "retry-with-backoff.html").read_text(encoding="utf-8")


def test_blog_post_keeps_code_headings_and_paragraphs_and_drops_navigation():
    page = extract_article(blog_post(), url="https://ada.example/blog/posts/retry-with-backoff.html")

    assert page is not None
    assert page.title == "Retrying with backoff, without the tears"
    assert page.author == "Ada Lovelace"
    assert page.published_at == datetime(2024, 3, 5, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert page.language == "en"
    blocks = page.text.split("\n\n")
    assert f"```python\n{RETRY_CODE}\n```" in page.text
    assert (
        "```\nfor i in 1 2 3 4 5; do curl -fsS http://localhost:8080/health && break; sleep $((i * i)); done\n```"
        in blocks
    )
    assert "## The helper" in blocks
    assert "### A shell one-liner for the impatient" in blocks
    assert (
        "- Equal jitter keeps half of the delay fixed, which bunches clients together again.\n"
        "- Decorrelated jitter is fine too, but harder to explain in a code review." in blocks
    )
    assert "That is all there is to it. Retry less than you think, always with jitter, and always with a cap." in blocks
    for boilerplate in ("Subscribe via RSS", "About me", "All rights reserved", "Related posts", "Privacy policy"):
        assert boilerplate not in page.text
    assert "<" not in page.text.replace("attempts < 1", "")  # no HTML tags left


def test_links_are_absolute_without_fragments_and_navigation_included():
    page = extract_article(blog_post(), url="https://ada.example/blog/posts/retry-with-backoff.html")

    assert page is not None
    assert page.links[:4] == [
        "https://ada.example/blog/",
        "https://ada.example/blog/archive.html",
        "https://ada.example/blog/about.html",
        "https://ada.example/blog/rss.xml",
    ]
    assert "https://ada.example/blog/posts/timeouts.html" in page.links


def test_extract_links_resolves_base_and_relative_links_and_skips_other_schemes():
    html = """<html><head><base href="/docs/v2/"></head><body>
      <a href="intro.html#setup">a</a> <a href="intro.html">b</a> <a href="../v1/old.html?x=1#top">c</a>
      <a href="#top">d</a> <a href="mailto:me@example.org">e</a> <a href="javascript:void(0)">f</a>
      <a href="https://other.example/">g</a></body></html>"""

    links = extract_links(html, url="https://site.example/docs/v2/index.html")

    assert links == [
        "https://site.example/docs/v2/intro.html",
        "https://site.example/docs/v1/old.html?x=1",
        "https://site.example/docs/v2/",
        "https://other.example/",
    ]


def test_page_without_content_gives_none():
    html = '<html><body><nav class="main-nav"><a href="/a">A</a> <a href="/b">B</a></nav></body></html>'

    assert extract_article(html, url="https://site.example/") is None
    assert extract_article("   ", url="https://site.example/") is None


def test_xhtml_with_xml_declaration_json_ld_date_and_code_holding_backticks():
    paragraph = "Markdown inside code must survive untouched, fences and all, or the example stops making sense. " * 3
    html = f"""<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="de"><head><title>Zäune</title>
<script type="application/ld+json">{{"@type": "BlogPosting", "datePublished": "2022-07-01T08:00:00"}}</script>
</head><body><article><h1>Zäune</h1><p>{paragraph}</p>
<pre>```sh\necho hi\n```</pre><p>{paragraph}</p></article></body></html>"""

    page = extract_article(html, url="https://site.example/zaune")

    assert page is not None
    assert page.language == "de"
    assert page.published_at == datetime(2022, 7, 1, 8, 0, tzinfo=UTC)  # no zone stated: UTC
    assert "````\n```sh\necho hi\n```\n````" in page.text


def test_feed_entry_fragment_keeps_its_code_block():
    fragment = (
        "<p>Store the first answer under the key.</p><pre><code>CREATE TABLE keys (\n\n  key text\n);</code></pre>"
    )

    text = extract_fragment_text(fragment, url="https://site.example/post")

    assert text.startswith("Store the first answer under the key.")
    assert "```\nCREATE TABLE keys (\n\n  key text\n);\n```" in text


@needs_abs_guide
def test_abs_guide_page_keeps_listings_byte_for_byte_and_its_headings():
    html = (ABS_GUIDE / "sha-bang.html").read_bytes().decode("iso-8859-1")

    page = extract_article(html, url="http://127.0.0.1/sha-bang.html")

    assert page is not None
    assert page.title == "Starting Off With a Sha-Bang"
    assert page.language == "en"
    blocks = page.text.split("\n\n")
    assert blocks[0] == "# Chapter 2. Starting Off With a Sha-Bang"
    assert "# 2.1. Invoking the script" in blocks
    assert f"```\n{CLEANUP_EXAMPLE}\n```" in page.text
    assert page.text.count("```") == 2 * 7  # all seven listings of the page, each fenced
    assert "Example 2-1. cleanup: A script to clean up log files in /var/log" in blocks
    assert not any(line in ("Prev", "Next", "Home", "Up") for line in page.text.splitlines())
    assert "Advanced Bash-Scripting Guide" not in page.text  # the navigation header


def test_every_debian_faq_chapter_keeps_its_headings():
    """Short DocBook pages without <main>: their headings alone once counted as the frame's growth."""
    pages = sorted((Path(__file__).resolve().parent.parent / "fixtures/faq/debian-faq/pages").glob("*.html"))
    headless = [page.name for page in pages if not prose_headings(page)]
    assert (len(pages), headless) == (16, [])


def prose_headings(page: Path) -> list[str]:
    """Heading lines outside code blocks ("# apt-get source foo" in a root shell listing is none)."""
    text = extract_article(page.read_text(), url=f"http://faq.test/{page.name}").text
    runs = split_code_fences(text.split("\n"))
    return [line for run in runs if not run.is_code for line in run.lines if re.match(r"#{1,6} ", line)]


def test_a_chapter_with_root_shell_listings_keeps_its_question_headings():
    # The software chapter shows "# apt-get build-dep foo" in code blocks; taken for headings, they kept the
    # page from its framed extraction, and all 13 questions were lost as headings.
    page = Path(__file__).resolve().parent.parent / "fixtures/faq/debian-faq/pages/software.html"

    headings = prose_headings(page)

    assert headings[:4] == [
        "# Chapter 5. Software available in the Debian system",
        "## 5.1. What types of applications and development software are available for Debian GNU/Linux?",
        "## 5.2. Who wrote all that software?",
        "## 5.3. How can I get a current list of programs that have been packaged for Debian?",
    ]


# The head and first answer of the Python 3.11 documentation's "Design and History FAQ" (Sphinx), as Debian's
# python3.11-doc ships it: the h1 that trafilatura takes as the title carries a permalink mark.
SPHINX_FAQ = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8" />
<title>Design and History FAQ &#8212; Python 3.11.2 documentation</title></head><body>
<div class="related" role="navigation"><ul><li><a href="../index.html">3.11.2 Documentation</a> &#187;</li></ul></div>
<div class="body" role="main"><section id="design-and-history-faq">
<h1><a class="toc-backref" href="#id2" role="doc-backlink">Design and History FAQ</a><a class="headerlink"
 href="#design-and-history-faq" title="Permalink to this heading">¶</a></h1>
<section id="why-does-python-use-indentation-for-grouping-of-statements">
<h2><a class="toc-backref" href="#id3" role="doc-backlink">Why does Python use indentation for grouping of
 statements?</a><a class="headerlink" href="#why-does-python-use-indentation-for-grouping-of-statements"
 title="Permalink to this heading">¶</a></h2>
<p>Guido van Rossum believes that using indentation for grouping is extremely elegant and contributes a lot to
the clarity of the average Python program.  Most people learn to love this feature after a while.</p>
<p>Since there are no begin/end brackets there cannot be a disagreement between grouping perceived by the parser
and the human reader.</p></section></section></div></body></html>"""


def test_a_sphinx_page_title_and_headings_lose_their_permalink_marks():
    page = extract_article(SPHINX_FAQ, url="http://127.0.0.1/faq/design.html")

    assert page.title == "Design and History FAQ"  # shown in every citation and extract lead-in
    assert page.text.splitlines()[:3] == [
        "# Design and History FAQ",
        "",
        "## Why does Python use indentation for grouping of statements?",
    ]
