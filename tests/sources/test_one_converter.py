"""One post, two ways in: from the publication's RSS feed and from its Substack export, the same text and hash."""

from xml.sax.saxutils import escape

from apps.sources.crawlers.base import SourceSpec
from apps.sources.crawlers.feed import FeedCrawler
from lib.text.cleaning import clean_text, content_hash
from tests.sources.exports import EXPORTS, crawl, documents, zipped
from tests.sources.webserver import serve_directory

POST = "posts/158423921.choose-boring-technology-twice.html"


def substack_feed(body_html: str, *, link: str) -> str:
    """The publication's feed as Substack serves it: the post body in content:encoded, the subtitle as description."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>On-call notes</title><link>https://oncallnotes.substack.com</link><language>en</language>
<item><title><![CDATA[Choose boring technology twice]]></title>
<description><![CDATA[What ten years of on-call taught me]]></description>
<link>{escape(link)}</link><guid isPermaLink="false">158423921</guid><dc:creator><![CDATA[Jo Martin]]></dc:creator>
<pubDate>Fri, 03 May 2024 09:00:00 GMT</pubDate>
<content:encoded><![CDATA[{body_html}]]></content:encoded></item></channel></rss>"""


def test_a_post_from_the_feed_and_from_the_export_reads_and_hashes_the_same(tmp_path, crawl_settings):
    body = (EXPORTS / "substack" / POST).read_text(encoding="utf-8")
    site = tmp_path / "site"
    site.mkdir()
    (site / "feed.xml").write_text(
        substack_feed(body, link="https://oncallnotes.substack.com/p/choose-boring-technology-twice")
    )
    exported = documents(crawl(zipped("substack", tmp_path)))["Choose boring technology twice"]

    with serve_directory(site) as served, served.client() as client:
        [from_feed] = FeedCrawler(client).crawl(SourceSpec(url=f"{served.base_url}/feed.xml", kind="feed"))

    assert from_feed.url == exported.url == "https://oncallnotes.substack.com/p/choose-boring-technology-twice"
    assert from_feed.text == exported.text
    assert content_hash(clean_text(from_feed.text)) == content_hash(clean_text(exported.text))
    assert "reader-supported" not in from_feed.text and "Subscribe now" not in from_feed.text
