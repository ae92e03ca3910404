"""Crawl runs as a curator reads them: re-crawls that skip what did not change, counts that describe a run
once when its task is delivered again, a run that gives up on a worker that keeps dying, whose writing
each document is, and a reason for every page fetched."""

import os
import time

import pytest

from apps.documents.models import Document
from apps.sources.crawling import MAX_ATTEMPTS, crawl_run_execute
from apps.sources.models import Author, CrawlRun, Source
from apps.sources.services import crawl_run_create
from tests.factories import make_author
from tests.sources.blog import default_posts, run_once, write_blog
from tests.sources.exports import zipped
from tests.sources.webserver import serve_directory

pytestmark = pytest.mark.django_db


@pytest.fixture
def blog(tmp_path, serve_dir, crawl_settings):
    folder = tmp_path / "blog"
    write_blog(folder, default_posts())
    hour_ago = time.time() - 3600  # older than a second: Last-Modified is then a usable validator
    for page in folder.iterdir():
        os.utime(page, (hour_ago, hour_ago))
    return folder, serve_dir(folder)


def test_a_recrawl_of_an_unchanged_site_asks_only_for_changes(blog):
    folder, base = blog
    source = Source.objects.create(author=make_author(), kind="site", url=f"{base}/index.html")
    first = run_once(source)
    (folder / "post-2.html").write_text((folder / "post-2.html").read_text().replace("Essay number 2", "Essay two"))

    again = run_once(source)

    assert first.counts() == {"fetched": 4, "new": 4, "changed": 0, "unchanged": 0, "failed": 0, "skipped": 0,
                              "not_modified": 0}  # fmt: skip
    # The index and two posts answered 304 (the index's links were remembered); the edited post was read again.
    assert again.counts() == {"fetched": 1, "new": 0, "changed": 1, "unchanged": 3, "failed": 0, "skipped": 0,
                              "not_modified": 3}  # fmt: skip
    assert Document.objects.get(url=f"{base}/post-2.html").title == "Essay two"
    assert Document.objects.filter(source=source, gone_at__isnull=True).count() == 4  # nothing marked gone


def test_a_sitemap_recrawl_fetches_only_pages_whose_lastmod_changed(tmp_path, crawl_settings):
    folder = tmp_path / "blog"
    write_blog(folder, default_posts())
    urls = "".join(f"<url><loc>{{BASE}}/post-{n}.html</loc><lastmod>2025-03-0{n}</lastmod></url>" for n in (1, 2, 3))
    sitemap = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    with serve_directory(folder) as site:
        sitemap = sitemap.replace("{BASE}", site.base_url)
        (folder / "sitemap.xml").write_text(sitemap)
        source = Source.objects.create(author=make_author(), kind="sitemap", url=f"{site.base_url}/sitemap.xml")
        run_once(source)
        (folder / "sitemap.xml").write_text(sitemap.replace("2025-03-03", "2025-04-01"))
        site.requested.clear()

        again = run_once(source)

    assert site.requested == ["/robots.txt", "/sitemap.xml", "/post-3.html"]  # the others were not asked for
    assert (again.pages_fetched + again.pages_not_modified, again.documents_unchanged) == (3, 3)


def test_a_redelivered_crawl_counts_each_page_once(blog):
    _, base = blog
    source = Source.objects.create(author=make_author(), kind="site", url=f"{base}/index.html")
    run = run_once(source)
    # The worker died after storing every page, before it could finish the run: the task comes again.
    CrawlRun.objects.filter(pk=run.pk).update(status=CrawlRun.Status.RUNNING, finished_at=None)

    again = crawl_run_execute(run_id=run.pk, on_document=lambda _id: None)

    assert again.status == CrawlRun.Status.SUCCEEDED
    assert again.attempts == 2
    # Each page once (the second attempt found them stored and current: 304), each counted new, as it was.
    assert (again.pages_fetched + again.pages_not_modified, again.documents_new, again.documents_unchanged) == (4, 4, 0)
    assert again.errors == [
        {
            "url": source.url,
            "error": "Attempt 2: the previous one stopped with its worker or the database; the counts start over.",
        }
    ]


def test_a_crawl_whose_worker_keeps_dying_gives_up_and_says_why(blog):
    _, base = blog
    source = Source.objects.create(author=make_author(), kind="site", url=f"{base}/index.html")
    run = crawl_run_create(source=source)
    CrawlRun.objects.filter(pk=run.pk).update(status=CrawlRun.Status.RUNNING, attempts=MAX_ATTEMPTS)

    given_up = crawl_run_execute(run_id=run.pk, on_document=lambda _id: None)

    assert given_up.status == CrawlRun.Status.FAILED
    assert given_up.pages_fetched == 0
    assert given_up.errors[-1]["error"].startswith(
        "The crawl was started 3 times and its worker stopped each time before it finished"
    )
    assert not Document.objects.exists()


def test_documents_go_to_the_authors_the_source_may_attribute_to(tmp_path):
    jo = make_author(name="Jo Martin")
    export = zipped("medium", tmp_path)
    only_jo = Source.objects.create(author=jo, kind="export", url=str(export), options={"authors": ["Jo Martin"]})
    copy = tmp_path / "medium-copy.zip"
    copy.write_bytes(export.read_bytes())
    both = Source.objects.create(
        author=jo, kind="export", url=str(copy), options={"authors": ["Jo Martin", "Bryan Guner"]}
    )

    guarded, shared = run_once(only_jo), run_once(both)

    assert guarded.documents_new == 1
    assert {
        "url": "https://medium.com/@bryanguner/javascript-algorithmic-interview-questions-and-considerations-e4e401bbc635",
        "reason": "Not stored: it is by Bryan Guner, who is not among the authors this source may attribute to "
        "(Jo Martin).",
    } in guarded.skipped
    assert shared.documents_new == 2
    by_author = dict(Document.objects.filter(source=both).values_list("title", "author__name"))
    assert by_author == {
        "Why we moved our queue to Postgres": "Jo Martin",
        "JavaScript Algorithmic Interview Questions And Considerations": "Bryan Guner",
    }
    assert Author.objects.filter(name="Bryan Guner").count() == 1
