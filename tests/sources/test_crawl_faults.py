"""PostgreSQL restarting during a crawl: `crawl --sync` waits for it and resumes, or stops with the reason.

The command runs in a process of its own (tests/commands.py) whose database connection goes through a proxy
that can go through a restart (tests/chat/dbproxy.py). The site's server restarts it at an exact point:
when the crawler asks for the third post, after the pages before it were stored.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from django.db import connection

from apps.documents.models import Chunk, Document
from apps.sources.models import Author, CrawlRun, Source
from tests.chat.dbproxy import PostgresProxy, postgres_proxy
from tests.commands import manage
from tests.serving import serving
from tests.sources.blog import paragraphs, write_blog

pytestmark = pytest.mark.django_db(transaction=True)

POSTS = {f"post-{n}": (f"Essay number {n}", paragraphs(n, count=2)) for n in range(1, 5)}


class _RestartingHandler(SimpleHTTPRequestHandler):
    """Serves the blog; the first request for `at` restarts the database before it is answered."""

    def __init__(self, *args, proxy: PostgresProxy, at: str, back_after_s: float | None, **kwargs) -> None:
        self.proxy, self.at, self.back_after_s = proxy, at, back_after_s
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self.path == self.at and self.proxy.port and not getattr(self.proxy, "restarted", False):
            self.proxy.restarted = True
            self.proxy.restart()
            if self.back_after_s is not None:
                threading.Timer(self.back_after_s, self.proxy.restore).start()
        super().do_GET()

    def log_message(self, format: str, *args) -> None:
        pass


@contextmanager
def blog_restarting_the_database(folder: Path, *, back_after_s: float | None) -> Iterator[tuple[str, str]]:
    """Serve the blog; yields (its base URL, a DATABASE_URL through the proxy that restarts at post 3)."""
    write_blog(folder, POSTS)
    host, port = connection.settings_dict["HOST"], connection.settings_dict["PORT"] or 5432
    with postgres_proxy(Path(host) / f".s.PGSQL.{port}") as proxy:
        handler = partial(
            _RestartingHandler, proxy=proxy, at="/post-3.html", back_after_s=back_after_s, directory=str(folder)
        )
        with serving(handler) as base_url:
            yield base_url, f"postgres://postgres@127.0.0.1:{proxy.port}/{connection.settings_dict['NAME']}"


def crawl(source: Source, database_url: str, *args: str):
    return manage(
        "crawl", "--source", str(source.pk), "--sync", *args,
        DATABASE_URL=database_url, CRAWLER_ALLOWED_HOSTS="127.0.0.1", CRAWLER_HOST_INTERVAL_S="0",
    )  # fmt: skip


def blog_source(base_url: str) -> Source:
    author = Author.objects.create(name="Ada Example")
    return Source.objects.create(author=author, kind="site", url=f"{base_url}/index.html")


def test_a_crawl_waits_for_postgresql_to_come_back_and_resumes_storing_each_page_once(tmp_path):
    with blog_restarting_the_database(tmp_path / "blog", back_after_s=1.0) as (base_url, database_url):
        source = blog_source(base_url)
        result = crawl(source, database_url, "--json")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    run = CrawlRun.objects.get()
    assert [line for line in result.stderr.splitlines() if "database" in line] == [
        f"The database stopped answering during crawl #{run.pk}; waiting up to 60 s.",
        f"The database is back; crawl #{run.pk} resumes.",
    ]
    report = json.loads(result.stdout)
    assert (report["status"], report["new"], report["unchanged"], report["failed"]) == ("succeeded", 5, 0, 0)
    assert (run.status, run.attempts) == (CrawlRun.Status.SUCCEEDED, 2)
    urls = sorted(Document.objects.values_list("url", flat=True))
    # Each page once: the index and the first two posts, stored before the restart, were kept, not duplicated.
    assert urls == [f"{base_url}/{page}.html" for page in ("index", "post-1", "post-2", "post-3", "post-4")]
    assert set(Document.objects.values_list("status", flat=True)) == {Document.Status.PROCESSED}
    assert Chunk.objects.filter(embedding__isnull=True).count() == 0 and Chunk.objects.count() >= 4


def test_a_crawl_whose_database_stays_away_stops_with_the_reason_and_keeps_what_it_stored(tmp_path):
    with blog_restarting_the_database(tmp_path / "blog", back_after_s=None) as (base_url, database_url):
        source = blog_source(base_url)
        result = crawl(source, database_url, "--wait-for-database", "1")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    run = CrawlRun.objects.get()
    assert result.stderr.splitlines()[-1] == (
        f"CommandError: The database stopped answering during crawl #{run.pk} and was still away after 1 s; the "
        "documents stored before stay. Crawl again once it is back: unchanged pages are not stored twice."
    )
    stored = sorted(Document.objects.values_list("url", flat=True))
    assert stored == [f"{base_url}/{page}.html" for page in ("index", "post-1", "post-2")]
