"""The export crawler against zips and folders laid out as Medium, Substack and LinkedIn write them."""

import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.sources.crawlers.base import CrawledDocument, CrawlFailure, CrawlSkipped, SourceSpec
from apps.sources.crawlers.exports import ExportCrawler, ExportError, ExportLimits

# Medium's editor writes code lines as <br>-separated text inside <pre>.
CODE = "def ship(change):\n\tif   change.small:  \n\t\treturn deploy(change)\n\n\tlog('done')"


def medium_page(title: str, body: str, *, canonical: str, published: str = "2021-03-04T10:20:30.123Z") -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<style>a {{ color: red }}</style></head><body><article class="h-entry">
<header><h1 class="p-name">{title}</h1></header>
<section data-field="subtitle" class="p-summary">Why tiny releases win</section>
<section data-field="body" class="e-content"><section name="a1" class="section section--body section--first">
<div class="section-divider"><hr class="section-divider"></div><div class="section-content">
<div class="section-inner sectionLayout--insetColumn">
<h3 name="t" class="graf graf--h3 graf--leading graf--title">{title}</h3>
<h4 name="s" class="graf graf--h4 graf--subtitle">Why tiny releases win</h4>
{body}
</div></div></section></section>
<footer><p>By <a href="https://medium.com/@jdoe" class="p-author h-card">Jane Doe</a> on
<a href="https://medium.com/p/abc"><time class="dt-published" datetime="{published}">March 4, 2021</time></a>.</p>
<p><a href="{canonical}" class="p-canonical">Canonical link</a></p>
<p>Exported from <a href="https://medium.com">Medium</a> on May 1, 2024.</p></footer></article></body></html>"""


MEDIUM_BODY = f"""<p name="p1" class="graf graf--p">Small releases are easier to <strong>review</strong>.</p>
<h4 name="h" class="graf graf--h4">A checklist</h4>
<ul class="postList"><li name="l1" class="graf graf--li">Write the test first.</li>
<li name="l2" class="graf graf--li">Merge the same day.</li></ul>
<pre name="c" class="graf graf--pre">{CODE.replace("<", "&lt;").replace(chr(10), "<br>")}</pre>
<blockquote name="q" class="graf graf--blockquote">Ship it &amp; sleep.</blockquote>
<p name="p2" class="graf graf--p graf--trailing">That is all.<br>Really.</p>"""


def make_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def crawl(path: Path, **options) -> list[CrawledDocument | CrawlFailure]:
    """What the crawl stored or failed on; what it skipped (with a reason) is tested in test_export_platforms."""
    items = ExportCrawler().crawl(SourceSpec(url=str(path), kind="export", options=options))
    return [item for item in items if not isinstance(item, CrawlSkipped)]


@pytest.fixture
def medium_zip(tmp_path: Path) -> Path:
    return make_zip(
        tmp_path / "medium-export.zip",
        {
            "README.html": "<p>Your Medium export</p>",
            "profile/profile.html": "<h3>Jane Doe</h3>",
            "posts/2021-03-04_Shipping-small-abc123.html": medium_page(
                "Shipping small", MEDIUM_BODY, canonical="https://medium.com/@jdoe/shipping-small-abc123"
            ),
            "posts/draft_Half-an-idea-def456.html": medium_page(
                "Half an idea", "<p>Not ready.</p>", canonical="https://medium.com/p/def456"
            ),
        },
    )


def test_medium_post_keeps_structure_code_and_metadata(medium_zip):
    (post,) = crawl(medium_zip)

    assert post.url == "https://medium.com/@jdoe/shipping-small-abc123"
    assert post.title == "Shipping small"
    assert post.author_name == "Jane Doe"
    assert post.published_at == datetime(2021, 3, 4, 10, 20, 30, 123000, tzinfo=UTC)
    assert post.text == (
        "# Shipping small\n\nWhy tiny releases win\n\n"
        "Small releases are easier to review.\n\n#### A checklist\n\n"
        "- Write the test first.\n- Merge the same day.\n\n"
        f"```\n{CODE}\n```\n\n"
        "> Ship it & sleep.\n\nThat is all.\nReally."
    )
    assert "<" not in post.text.replace("</", "")  # no tags left


def test_medium_drafts_are_skipped_unless_asked_for(medium_zip):
    documents = crawl(medium_zip, include_drafts=True)

    assert {d.title for d in documents} == {"Shipping small", "Half an idea"}
    draft = next(d for d in documents if d.title == "Half an idea")
    assert draft.metadata["draft"] is True
    assert draft.text == "# Half an idea\n\nWhy tiny releases win\n\nNot ready."


def test_medium_page_without_a_body_is_a_failure_not_a_crash(tmp_path):
    export = make_zip(tmp_path / "m.zip", {"posts/2020-01-01_Odd.html": "<html><body><p>Hi</p></body></html>"})

    (failure,) = crawl(export)

    assert isinstance(failure, CrawlFailure)
    assert failure.url == "posts/2020-01-01_Odd.html"
    assert "no post body" in failure.error


SUBSTACK_CSV = (
    "post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,title,subtitle,podcast_url\n"
    "101.on-boring-tech,2023-04-05T12:00:00.000Z,true,,,newsletter,everyone,On boring tech,Choose it twice,\n"
    '102.notes-draft,,false,,,newsletter,everyone,"Notes, unfinished",,\n'
    "103.a-thread,2023-05-01T08:00:00.000Z,true,,,thread,only_paid,Ask me anything,,\n"
    "104.missing-body,2023-06-01T08:00:00.000Z,true,,,newsletter,everyone,Lost post,,\n"
)


@pytest.fixture
def substack_zip(tmp_path: Path) -> Path:
    return make_zip(
        tmp_path / "substack.zip",
        {
            "posts.csv": SUBSTACK_CSV,
            "posts/101.on-boring-tech.html": "<p>Boring tech is <em>known</em> tech.</p><h2>Why</h2><p>Less fuss.</p>",
            "posts/101.on-boring-tech.opens.csv": "email,timestamp\n",
            "posts/102.notes-draft.html": "<p>Half a thought.</p>",
            "posts/103.a-thread.html": "<p>Ask away.</p>",
        },
    )


def test_substack_published_posts_with_urls_from_base_url(substack_zip):
    items = crawl(substack_zip, base_url="https://jane.substack.com/")
    documents = {item.url: item for item in items if isinstance(item, CrawledDocument)}
    failures = [item for item in items if isinstance(item, CrawlFailure)]

    assert set(documents) == {"https://jane.substack.com/p/on-boring-tech", "https://jane.substack.com/p/a-thread"}
    post = documents["https://jane.substack.com/p/on-boring-tech"]
    assert post.text == "# On boring tech\n\nChoose it twice\n\nBoring tech is known tech.\n\n## Why\n\nLess fuss."
    assert post.published_at == datetime(2023, 4, 5, 12, tzinfo=UTC)
    assert post.content_type == "article"
    assert documents["https://jane.substack.com/p/a-thread"].content_type == "post"
    assert [f.url for f in failures] == ["posts/104.missing-body.html"]
    assert "no body file" in failures[0].error


def test_substack_drafts_on_request_and_paths_as_urls_without_base_url(substack_zip):
    urls = {item.url for item in crawl(substack_zip, include_drafts=True) if isinstance(item, CrawledDocument)}

    assert urls == {"posts/101.on-boring-tech.html", "posts/102.notes-draft.html", "posts/103.a-thread.html"}


LINKEDIN_SHARES = (
    "Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility\n"
    '2023-05-04 12:34:56,https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A1,"Shipped a tiny release today.\n\n'
    'Three ""lessons"", one line each.",,,MEMBER_NETWORK\n'
    "2023-05-05 09:00:00,https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A2,,https://example.org/x,,PUBLIC\n"
)
LINKEDIN_ARTICLE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>Boring is a feature</title></head><body>
<img src="https://media.licdn.com/cover.jpg" alt="">
<h1><a href="https://www.linkedin.com/pulse/boring-feature-jane-doe">Boring is a feature</a></h1>
<p class="created">Created on 2021-03-04 10:20</p><p class="published">Published on 2021-03-05 09:00</p>
<div><p>Pick tools you understand.</p><ol><li>Fewer pages at night.</li><li>Faster onboarding.</li></ol></div>
</body></html>"""


def test_linkedin_shares_are_posts_and_articles_are_articles(tmp_path):
    export = make_zip(
        tmp_path / "Basic_LinkedInDataExport_05-01-2024.zip",
        {
            "Shares.csv": LINKEDIN_SHARES,
            "Profile.csv": "First Name,Last Name\nJane,Doe\n",
            "Articles/Articles/Boring is a feature.html": LINKEDIN_ARTICLE,
        },
    )

    documents = {item.url: item for item in crawl(export)}

    assert set(documents) == {
        "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A1",
        "https://www.linkedin.com/pulse/boring-feature-jane-doe",
    }
    share = documents["https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A1"]
    assert share.content_type == "post"
    assert share.text == 'Shipped a tiny release today.\n\nThree "lessons", one line each.'
    assert share.published_at == datetime(2023, 5, 4, 12, 34, 56, tzinfo=UTC)
    article = documents["https://www.linkedin.com/pulse/boring-feature-jane-doe"]
    assert article.content_type == "article"
    assert article.text == (
        "# Boring is a feature\n\nPick tools you understand.\n\n- Fewer pages at night.\n- Faster onboarding."
    )
    assert article.published_at == datetime(2021, 3, 5, 9, 0, tzinfo=UTC)


def test_folder_of_markdown_html_and_text_honours_front_matter(tmp_path):
    folder = tmp_path / "blog"
    (folder / "posts").mkdir(parents=True)
    (folder / "posts" / "2022-01-02-first.md").write_text(
        '---\ntitle: "First post"\ndate: 2022-01-02\ntags: [a, b]\n---\nHello **world**.\n\n```sh\nls  -la\t\n```\n'
    )
    (folder / "posts" / "wip.md").write_text("---\ntitle: WIP\ndraft: true\n---\nSoon.\n")
    (folder / "hugo.md").write_text('+++\ntitle = "Hugo post"\ndate = 2020-05-06T07:08:09Z\n+++\n\nFrom Hugo.\n')
    (folder / "page.html").write_text(
        "<html><head><title>Saved page</title></head><body><header>Site nav</header>"
        "<article><h1>Saved page</h1><p>Kept words.</p></article><footer>(c) me</footer></body></html>"
    )
    (folder / "notes.txt").write_text("Plain notes.\r\nSecond line.\r\n")
    (folder / "image.png").write_bytes(b"\x89PNG\x00")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "secret.md").write_text("# Secret\n")

    documents = {item.url: item for item in crawl(folder)}

    assert set(documents) == {"posts/2022-01-02-first.md", "hugo.md", "page.html", "notes.txt"}
    first = documents["posts/2022-01-02-first.md"]
    assert first.title == "First post"
    assert first.text == "# First post\n\nHello **world**.\n\n```sh\nls  -la\t\n```"
    assert first.published_at == datetime(2022, 1, 2, tzinfo=UTC)
    assert documents["hugo.md"].published_at == datetime(2020, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert documents["page.html"].text == "# Saved page\n\nKept words."
    assert documents["notes.txt"].text == "Plain notes.\nSecond line."
    assert "posts/wip.md" in {item.url for item in crawl(folder, include_drafts=True)}


def test_a_zip_inside_one_top_folder_is_detected_by_its_layout(tmp_path, medium_zip):
    with zipfile.ZipFile(medium_zip) as source:
        nested = {f"medium-export-2024/{name}": source.read(name) for name in source.namelist()}
    export = make_zip(tmp_path / "nested.zip", {**nested, "__MACOSX/._posts": b"junk"})

    assert [d.title for d in crawl(export)] == ["Shipping small"]


def test_progress_counts_every_entry(medium_zip):
    reports: list[tuple[int, int | None]] = []

    list(ExportCrawler().crawl(SourceSpec(url=str(medium_zip), kind="export"), progress=lambda *a: reports.append(a)))

    assert reports == [(1, 2), (2, 2)]  # the published post and the draft, which is skipped


@pytest.mark.parametrize("name", ["../evil.md", "/etc/evil.md", "posts/../../evil.md", "C:\\evil.md"])
def test_path_traversal_entries_refuse_the_whole_zip(tmp_path, name):
    export = make_zip(tmp_path / "evil.zip", {"ok.md": "# Fine\n", name: "# Evil\n"})

    with pytest.raises(ExportError, match="unsafe path"):
        crawl(export)


def test_symlink_entries_are_refused(tmp_path):
    export = tmp_path / "link.zip"
    with zipfile.ZipFile(export, "w") as archive:
        link = zipfile.ZipInfo("notes.md")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")

    with pytest.raises(ExportError, match="symbolic link"):
        crawl(export)


def test_zip_bombs_are_refused_by_size_and_by_entry_count(tmp_path):
    bomb = make_zip(tmp_path / "bomb.zip", {"big.txt": b"\0" * 5_000_000})  # ~5 KB compressed
    many = make_zip(tmp_path / "many.zip", {f"n{i}.txt": "x" for i in range(30)})
    limits = ExportLimits(max_entries=20, max_total_bytes=1_000_000)

    with pytest.raises(ExportError, match="unpacks to more than"):
        list(ExportCrawler(limits=limits).crawl(SourceSpec(url=str(bomb), kind="export")))
    with pytest.raises(ExportError, match="more than 20 files"):
        list(ExportCrawler(limits=limits).crawl(SourceSpec(url=str(many), kind="export")))


def test_a_path_that_is_not_an_export_is_a_clear_error(tmp_path):
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("not a zip")

    with pytest.raises(ExportError, match="neither a zip file nor a folder"):
        crawl(not_zip)
    with pytest.raises(ExportError, match="Unknown export format"):
        crawl(tmp_path, format="tumblr")
