"""Real export samples (tests/fixtures/exports, provenance in each SOURCES.md) imported as a user sees them:
how many posts, their titles, dates and URLs, and no widget, quoting or template residue."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from apps.sources.crawlers.base import CrawlFailure
from tests.sources.exports import copied, crawl, documents, skipped, zipped

RESIDUE = ("<", "{{", "{%", "![", '""', "Subscribe", "reader-supported", "Share")


def assert_clean(text: str) -> None:
    for residue in RESIDUE:
        assert residue not in text, residue


def test_medium_imports_posts_and_skips_responses_and_drafts(tmp_path):
    items = crawl(zipped("medium", tmp_path))

    posts = documents(items)
    assert sorted(posts) == [
        "JavaScript Algorithmic Interview Questions And Considerations",
        "Why we moved our queue to Postgres",
    ]
    assert skipped(items) == {
        "posts/2023-03-02_Great-point-about-retries---we-saw-the-same-with-our-payment-9c8b7a6f5e4d.html": (
            "A response to someone else's post, not an article (set include_responses)."
        ),
        "posts/draft_Notes-on-backpressure-1a2b3c4d5e6f.html": "A draft (set include_drafts to import drafts).",
    }
    queue = posts["Why we moved our queue to Postgres"]
    assert queue.url == "https://medium.com/@jmartin/why-we-moved-our-queue-to-postgres-3f2a9c1d7b44"
    assert queue.published_at == datetime(2023, 2, 11, 17, 3, 44, 512000, tzinfo=UTC)
    # No subtitle was set: Medium's summary is the first paragraph cut short, and is not repeated.
    assert queue.text.startswith(
        "# Why we moved our queue to Postgres\n\nTwo years of running a separate broker taught us"
    )
    assert queue.text.count("Two years of running") == 1
    assert "```\nSELECT id, payload\n  FROM jobs\n WHERE run_at <= now()\n" in queue.text
    assert "The worker takes one row with `SKIP LOCKED` and commits" in queue.text
    interview = posts["JavaScript Algorithmic Interview Questions And Considerations"]
    assert interview.text.split("\n\n")[:3] == [
        "# JavaScript Algorithmic Interview Questions And Considerations",
        "Order the common complexity classes according to their growth rate.",  # a subtitle set by the author
        "### Videos",
    ]
    assert interview.author_name == "Bryan Guner"
    for post in posts.values():
        assert_clean(post.text.replace("run_at <= now", ""))


def test_medium_responses_and_drafts_on_request(tmp_path):
    posts = documents(crawl(zipped("medium", tmp_path), include_responses=True, include_drafts=True))

    response = posts["Great point about retries — we saw the same with our payment…"]
    assert response.content_type == "post"
    assert (
        response.text == "Great point about retries — we saw the same with our payment provider until we added jitter."
    )
    assert posts["Notes on backpressure"].metadata["draft"] is True


def test_substack_drops_widgets_and_builds_urls_from_the_posts_own_links(tmp_path):
    items = crawl(zipped("substack", tmp_path, top_folder="oncallnotes-export"))

    posts = documents(items)
    assert {post.url for post in posts.values()} == {
        "https://oncallnotes.substack.com/p/choose-boring-technology-twice",
        "https://oncallnotes.substack.com/p/the-queue-is-a-table",
    }
    boring = posts["Choose boring technology twice"]
    assert boring.text == (
        "# Choose boring technology twice\n\nWhat ten years of on-call taught me\n\n"
        "Ten years of on-call have made me allergic to novelty in the critical path. Not because new tools are"
        " bad, but because every tool you add is one more thing that can fail at 3 a.m.\n\n## The rule\n\n"
        "Before adding a component, write down what you will stop running. If the answer is `nothing`, you are"
        " adding risk, not removing it.\n\n```python\ndef worth_it(new, removed):\n    return len(removed) >= 1\n```"
        "\n\n> Boring is a feature."
    )
    assert boring.published_at == datetime(2024, 5, 3, 9, 0, tzinfo=UTC)
    paid = posts["The queue is a table"]
    assert paid.metadata["audience"] == "only_paid"  # paid-only posts are whole in the export: kept
    assert paid.text.endswith("Every job went to both systems for a week, and a nightly check compared them.")
    for post in posts.values():
        assert_clean(post.text.replace("removed) >= 1", ""))
    assert skipped(items) == {
        "posts/161002554.episode-3-incidents.html": "A podcast episode without show notes: no text to keep.",
        "posts/161555001.half-an-idea.html": "A draft (set include_drafts to import drafts).",
    }


def test_substack_base_url_option_wins(tmp_path):
    posts = documents(crawl(zipped("substack", tmp_path), base_url="https://notes.jo.example/"))

    assert posts["The queue is a table"].url == "https://notes.jo.example/p/the-queue-is-a-table"


def test_linkedin_undoes_line_quoting_and_skips_unpublished_articles(tmp_path):
    items = crawl(zipped("linkedin", tmp_path, top_folder="Basic_LinkedInDataExport_05-01-2024"))

    posts = documents(items)
    assert sorted(posts) == [
        "Boring is a feature",
        "One line, no quotes to undo.",
        "Shipped a tiny release today.",
        'We said "no" to a rewrite.',
    ]
    assert posts["Shipped a tiny release today."].text == (
        "Shipped a tiny release today.\n\nThree lessons, one line each:\n1. Small diffs get reviewed.\n"
        "2. Flags beat branches.\n3. Friday deploys are fine if rollback is one click."
    )
    assert posts['We said "no" to a rewrite.'].text == 'We said "no" to a rewrite.\n\nBest decision of the quarter.'
    article = posts["Boring is a feature"]
    assert article.url == "https://www.linkedin.com/pulse/boring-feature-jo-martin"
    assert article.published_at == datetime(2021, 3, 5, 9, 0, tzinfo=UTC)
    assert article.text.count("```") == 2  # one real code block; four empty <pre> left no fences
    assert "```\n\n```" not in article.text
    assert skipped(items) == {
        "https://www.linkedin.com/feed/update/urn:li:share:7080901020304050607": (
            "A re-share without words of the author's own."
        ),
        "https://www.linkedin.com/pulse/untitled-draft-on-queues-jo-martin": (
            "An article never published (set include_drafts to import drafts)."
        ),
    }


def test_older_linkedin_archive_utf16_tabs_and_articles_folder(tmp_path):
    posts = documents(crawl(zipped("linkedin-old", tmp_path)))

    assert sorted(posts) == [
        "On-call is a design review you did not schedule.",
        "What I learned from a year of on-call",
        "Year in review: fewer pages, more sleep.",
    ]
    assert posts["Year in review: fewer pages, more sleep."].published_at == datetime(
        2019, 12, 15, 16, 3, 5, tzinfo=UTC
    )
    assert posts["What I learned from a year of on-call"].text.endswith(
        "## Three rules\n\n- Page only on symptoms.\n- Every page gets a postmortem."
    )


def test_jekyll_reads_posts_with_file_name_dates_and_skips_templates(tmp_path):
    items = crawl(copied("jekyll", tmp_path))

    posts = documents(items)
    assert sorted(posts) == ["Jekyll 2.5.1 Released", 'Jekyll 3.4.1, or "Unintended Consequences"']
    assert posts["Jekyll 2.5.1 Released"].published_at == datetime(
        2014, 11, 9, 9, 47, 52, tzinfo=timezone(timedelta(hours=-8))
    )
    assert posts['Jekyll 3.4.1, or "Unintended Consequences"'].published_at == datetime(2017, 3, 2, tzinfo=UTC)
    assert posts["Jekyll 2.5.1 Released"].url == "_posts/2014-11-08-jekyll-2-5-1-released.markdown"
    assert (
        "```ruby\n%r!^(?:.+/)*(\\d+-\\d+-\\d+)-(.*)(\\.[^.]+)$!\n```"
        in posts['Jekyll 3.4.1, or "Unintended Consequences"'].text
    )
    for post in posts.values():
        assert_clean(post.text)
    assert skipped(items) == {
        "_drafts/a-post-about-liquid.md": "A draft (set include_drafts to import drafts).",
        "news/index.html": "A template page (Liquid or Go template tags), no writing of its own.",
    }


def test_jekyll_drafts_keep_their_words_not_their_liquid(tmp_path):
    draft = documents(crawl(copied("jekyll", tmp_path), include_drafts=True))["A post about Liquid"]

    assert draft.text == "# A post about Liquid\n\nNot finished: will explain {{ page.title }} one day."


def test_hugo_drops_image_links_shortcodes_and_drafts(tmp_path):
    items = crawl(copied("hugo", tmp_path))

    posts = documents(items)
    assert sorted(posts) == ["About", "The queue is a table"]
    queue = posts["The queue is a table"]
    assert queue.published_at == datetime(2024, 6, 14, 7, 30, tzinfo=timezone(timedelta(hours=2)))
    assert queue.author_name == "Jo Martin"
    assert queue.text == (
        "# The queue is a table\n\nWe retired the broker last month. The jobs live in one table now.\n\n"
        "## How a worker takes a job\n\nIt locks one row with `SKIP LOCKED`, does the work, and deletes the row in"
        " the same transaction.\nSee the [diagram](/images/flow.svg) and the lock icon.\n\n"
        "```sql\nDELETE FROM jobs WHERE id = $1;\n```"
    )
    assert skipped(items) == {"content/posts/wip.md": "A draft (draft: true; set include_drafts to import drafts)."}


def test_notion_export_pages_dates_and_drafts(tmp_path):
    items = crawl(zipped("notion", tmp_path))

    posts = documents(items)
    assert sorted(posts) == ["Reading notes", "Why we moved our queue to Postgres"]
    queue = posts["Why we moved our queue to Postgres"]
    assert queue.published_at == datetime(2024, 6, 14, 7, 30, tzinfo=UTC)
    assert "Status: Published" not in queue.text  # properties are metadata, not text
    assert queue.text.split("\n\n")[1] == (
        "Two years of running a separate broker taught us that the queue we needed was a table with a lock."
    )
    assert posts["Reading notes"].text == (
        "# Reading notes\n\n*Designing Data-Intensive Applications*, chapter 11: a log is a queue you can replay."
    )
    assert list(skipped(items).values()) == ["No text in it.", "A draft (status draft; set include_drafts)."]


def test_word_document_keeps_headings_and_its_properties(tmp_path):
    [document] = documents(crawl(copied("docx", tmp_path))).values()

    assert document.title == "Shared MIME Info"
    assert document.author_name == "Bastien Nocera"
    assert document.published_at == datetime(2022, 4, 29, 10, 0, tzinfo=UTC)
    assert document.text.split("\n\n")[:2] == ["# Shared MIME Info", "The shared-mime-info package contains:"]
    assert "# Installation" in document.text.split("\n\n")


def test_pdf_with_a_text_layer_is_read_and_a_scan_is_a_recorded_failure(tmp_path):
    items = crawl(copied("pdf", tmp_path))

    [spec] = documents(items).values()
    assert spec.title == "Shared MIME-info Database"
    assert "This is version 0.21 of the Shared MIME-info Database specification" in spec.text
    [scan] = [item for item in items if isinstance(item, CrawlFailure)]
    assert scan.url == "scanned-page.pdf"
    assert scan.error == (
        "scanned-page.pdf could not be read: its 1 page(s) have no text layer (a scanned PDF?); OCR is not done here."
    )


@pytest.mark.parametrize(
    ("platform", "in_sample", "imported"),
    [("medium", 4, 2), ("substack", 4, 2), ("linkedin", 6, 4), ("linkedin-old", 3, 3), ("jekyll", 4, 2),
     ("hugo", 3, 2), ("notion", 4, 2), ("docx", 1, 1), ("pdf", 2, 1)],
)  # fmt: skip
def test_every_post_of_a_sample_is_imported_or_accounted_for(tmp_path, platform, in_sample, imported):
    items = crawl(copied(platform, tmp_path))

    assert (len(items), len(documents(items))) == (in_sample, imported)
