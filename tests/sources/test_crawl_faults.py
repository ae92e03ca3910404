"""PostgreSQL restarting during a crawl: `crawl --sync` waits for it and resumes, or stops with the reason.

The command runs in a process of its own (tests/commands.py) whose database connection goes through a proxy
that can go through a restart (tests/chat/dbproxy.py). The site's server restarts it at exact points: when
the crawler asks for a given page, after the pages before it were stored.
"""

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from django.db import connection

from apps.documents.models import Document
from apps.sources.models import Author, CrawlRun, Source
from tests.chat.dbproxy import PostgresProxy, postgres_proxy
from tests.commands import manage
from tests.serving import serving
from tests.sources.blog import paragraphs, write_blog

pytestmark = pytest.mark.django_db(transaction=True)

POSTS = {f"post-{n}": (f"Essay number {n}", paragraphs(n, count=2)) for n in range(1, 5)}


class _RestartingHandler(SimpleHTTPRequestHandler):
    """Serves the blog; the first request for a page of `restarts` restarts the database before it is answered,
    and `restarts[page]` seconds later it is back (None: it stays away)."""

    def __init__(self, *args, proxy: PostgresProxy, restarts: dict[str, float | None], **kwargs) -> None:
        self.proxy, self.restarts = proxy, restarts
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self.path in self.restarts:
            back_after_s = self.restarts.pop(self.path)
            self.proxy.restart()
            if back_after_s is not None:
                threading.Timer(back_after_s, self.proxy.restore).start()
        super().do_GET()

    def log_message(self, format: str, *args) -> None:
        pass


def test_a_crawl_resumes_after_postgresql_comes_back_and_stops_with_the_reason_when_it_stays_away(tmp_path):
    folder = tmp_path / "blog"
    write_blog(folder, POSTS)
    host, port = connection.settings_dict["HOST"], connection.settings_dict["PORT"] or 5432
    # Down at the second post for 0.3 s (the command waits up to 3 s: it resumes), down for good at the fourth.
    restarts = {"/post-2.html": 0.3, "/post-4.html": None}
    with postgres_proxy(Path(host) / f".s.PGSQL.{port}") as proxy:
        handler = partial(_RestartingHandler, proxy=proxy, restarts=restarts, directory=str(folder))
        with serving(handler) as base_url:
            author = Author.objects.create(name="Ada Example")
            source = Source.objects.create(author=author, kind="site", url=f"{base_url}/index.html")
            result = manage(
                "crawl", "--source", str(source.pk), "--sync", "--wait-for-database", "3",
                DATABASE_URL=f"postgres://postgres@127.0.0.1:{proxy.port}/{connection.settings_dict['NAME']}",
                CRAWLER_ALLOWED_HOSTS="127.0.0.1", CRAWLER_HOST_INTERVAL_S="0",
            )  # fmt: skip

    assert result.returncode == 1 and "Traceback" not in result.stderr
    run = CrawlRun.objects.get()
    assert [line for line in result.stderr.splitlines() if "database" in line] == [
        f"The database stopped answering during crawl #{run.pk}; waiting up to 3 s.",
        f"The database is back; crawl #{run.pk} resumes.",
        f"The database stopped answering during crawl #{run.pk}; waiting up to 3 s.",
        f"CommandError: The database stopped answering during crawl #{run.pk} and was still away after 3 s; the "
        "documents stored before stay. Crawl again once it is back: unchanged pages are not stored twice.",
    ]
    assert run.attempts == 2 and run.errors[0]["error"].startswith("Attempt 2: the previous one stopped")
    # What each attempt stored stays, once: the first stored the index and post 1, the resumed one posts 2 and 3.
    stored = sorted(Document.objects.values_list("url", flat=True))
    assert stored == [f"{base_url}/{page}.html" for page in ("index", "post-1", "post-2", "post-3")]
