"""Crawl -> clean -> chunk -> embed on a real blog served over HTTP, incrementally and idempotently."""

import json

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.management import call_command

from apps.documents.models import Chunk, Document
from apps.documents.services import chunks_embed_pending, document_process
from apps.sources.models import Source
from tests.factories import make_author
from tests.sources.blog import crawl, default_posts, paragraphs, post_html, write_blog

pytestmark = pytest.mark.django_db


def snapshot(document: Document) -> dict[int, tuple[int, str, list[float]]]:
    return {c.ordinal: (c.pk, c.content_hash, list(c.embedding)) for c in document.chunks.all()}


@pytest.fixture
def blog(tmp_path, serve_dir, crawl_settings):
    folder = tmp_path / "blog"
    write_blog(folder, default_posts())
    return folder, serve_dir(folder)


def test_crawl_command_stores_chunked_embedded_documents(blog, capsys):
    _, base = blog
    source = Source.objects.create(author=make_author(name="Ada Example"), kind="site", url=f"{base}/index.html")
    call_command("crawl", "--source", str(source.pk), "--sync", "--json")
    counts = json.loads(capsys.readouterr().out)
    assert counts["status"] == "succeeded"
    assert (counts["fetched"], counts["new"], counts["failed"]) == (4, 4, 0)

    post = Document.objects.get(url=f"{base}/post-2.html")
    assert post.title == "Essay number 2"
    assert post.published_at.year == 2025
    assert "Subscribe to the newsletter" not in post.clean_text  # boilerplate left behind
    assert "Post 2, part 5, point 6" in post.clean_text
    chunks = list(post.chunks.all())
    assert len(chunks) >= 2
    assert all(c.embedding is not None and len(c.embedding) == 384 for c in chunks)
    assert {c.embedding_model for c in chunks} == {"sentence-transformers/all-MiniLM-L6-v2"}
    assert max(c.token_count for c in chunks) <= 256
    # Full-text search sees the same rows.
    assert Chunk.objects.filter(search_vector=SearchQuery("incremental", config="english")).exists()


def test_second_crawl_after_one_edit_re_embeds_only_the_changed_chunks(blog):
    folder, base = blog
    source = Source.objects.create(author=make_author(), kind="site", url=f"{base}/index.html")
    crawl(source)
    edited = Document.objects.get(url=f"{base}/post-1.html")
    other = Document.objects.get(url=f"{base}/post-3.html")
    before_edited, before_other = snapshot(edited), snapshot(other)

    run, embedded = crawl(source)
    assert (run.documents_unchanged, run.documents_changed, embedded) == (4, 0, 0)

    body = paragraphs(1)
    body[-1] = "A brand new closing paragraph, written after the first crawl, about nothing seen before."
    (folder / "post-1.html").write_text(post_html("Essay number 1", body), encoding="utf-8")
    run, embedded = crawl(source)
    assert (run.documents_changed, run.documents_unchanged, run.documents_new) == (1, 3, 0)

    after_edited = snapshot(edited)
    kept = [o for o in after_edited if o in before_edited and after_edited[o] == before_edited[o]]
    assert kept, "the unchanged beginning of the post keeps its chunks and vectors"
    assert 0 < embedded < len(after_edited)
    assert embedded == len(after_edited) - len(kept)
    assert snapshot(other) == before_other
    assert "brand new closing paragraph" in Document.objects.get(pk=edited.pk).clean_text


def test_page_removed_upstream_is_marked_gone_not_kept_silently(blog):
    folder, base = blog
    source = Source.objects.create(author=make_author(), kind="site", url=f"{base}/index.html")
    crawl(source)
    posts = default_posts()
    del posts["post-2"]
    (folder / "post-2.html").unlink()
    write_blog(folder, posts)
    run, _ = crawl(source)
    assert run.status == "succeeded"
    gone = Document.objects.get(url=f"{base}/post-2.html")
    assert gone.gone_at is not None
    assert Document.objects.filter(source=source, gone_at__isnull=True).count() == 3


def test_failed_pages_are_recorded_and_earlier_data_is_kept(blog):
    folder, base = blog
    source = Source.objects.create(author=make_author(), kind="site", url=f"{base}/index.html")
    crawl(source)
    chunks_before = Chunk.objects.filter(document__source=source).count()
    (folder / "post-3.html").write_text(
        "<html><head><title>Just a moment...</title></head>"
        "<body>Enable JavaScript and cookies to continue</body></html>",
        encoding="utf-8",
    )
    run, _ = crawl(source)
    assert run.status == "partial"
    assert run.pages_failed == 1
    assert [e["url"] for e in run.errors] == [f"{base}/post-3.html"]
    kept = Document.objects.get(url=f"{base}/post-3.html")
    assert "Just a moment" not in kept.clean_text and kept.gone_at is None
    assert Chunk.objects.filter(document__source=source).count() == chunks_before


def test_unreachable_source_fails_the_run_with_its_reason(crawl_settings):
    source = Source.objects.create(author=make_author(), kind="article", url="http://127.0.0.1:9/nothing-here")
    run, _ = crawl(source)
    assert run.status == "failed"
    assert run.errors and run.errors[0]["url"] == source.url
    source.refresh_from_db()
    assert source.last_crawl_status == "failed"


def test_syndicated_copy_is_linked_as_near_duplicate_and_not_embedded(tmp_path, serve_dir, crawl_settings):
    body = paragraphs(7, count=8)
    blog_a, blog_b = tmp_path / "a", tmp_path / "b"
    write_blog(blog_a, {"essay": ("On twins", body)})
    syndicated = [*body[:-1], body[-1] + " (Originally published on Ada's own blog.)"]
    write_blog(blog_b, {"on-twins": ("On twins — cross-posted", syndicated)})
    ada = make_author()
    first = Source.objects.create(author=ada, kind="article", url=f"{serve_dir(blog_a)}/essay.html")
    second = Source.objects.create(author=ada, kind="article", url=f"{serve_dir(blog_b)}/on-twins.html")
    crawl(first)
    crawl(second)
    original, copy = Document.objects.get(source=first), Document.objects.get(source=second)
    assert copy.status == Document.Status.DUPLICATE and copy.duplicate_of == original
    assert copy.chunks.count() == 0 and original.chunks.count() > 0


def test_recrawl_is_idempotent_and_never_duplicates_rows(blog):
    _, base = blog
    source = Source.objects.create(author=make_author(), kind="site", url=f"{base}/index.html")
    crawl(source)
    counts = (Document.objects.count(), Chunk.objects.count())
    for _ in range(2):
        crawl(source)
        for document in Document.objects.all():
            document_process(document_id=document.pk, force=True)
    assert (Document.objects.count(), Chunk.objects.count()) == counts
    assert chunks_embed_pending() == 0


def test_a_crawl_cut_short_by_max_pages_marks_nothing_gone(blog):
    _, base = blog
    source = Source.objects.create(author=make_author(), kind="site", url=f"{base}/index.html")
    crawl(source)
    source.options = {"max_pages": 2}
    source.save()
    run, _ = crawl(source)
    # Two pages asked for: fetched again, or answered "not modified" once the server's dates are usable.
    assert (run.status, run.pages_fetched + run.pages_not_modified) == ("succeeded", 2)
    assert not Document.objects.filter(source=source, gone_at__isnull=False).exists()


def test_a_source_that_cannot_be_read_fails_cleanly(tmp_path):
    source = Source.objects.create(author=make_author(), kind="export", url=str(tmp_path / "missing.zip"))
    run, _ = crawl(source)
    assert run.status == "failed"
    assert "missing.zip" in run.errors[0]["error"]
