"""A real HTTP server on 127.0.0.1 serving a directory, for the web crawler tests."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from apps.core.http import HttpClient
from tests.serving import serving

WEB_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "web"
ABS_GUIDE = Path("/usr/share/doc/abs-guide/html")
needs_abs_guide = pytest.mark.skipif(not ABS_GUIDE.is_dir(), reason="Debian package abs-guide is not installed")
TEXT_SUFFIXES = {".html", ".xml", ".txt", ""}


@dataclass
class ServedSite:
    base_url: str  # http://127.0.0.1:<port>
    other_host: str  # the same server under another host name (localhost): off-host for the crawlers
    requested: list[str] = field(default_factory=list)  # request paths, in order

    def client(self) -> HttpClient:
        host = self.base_url.removeprefix("http://")
        return HttpClient(
            allowed_hosts=[host],
            user_agent="test",
            timeout_s=5,
            max_bytes=2_000_000,
            max_redirects=5,
            host_interval_s=0,
            respect_robots=True,
        )


class _RecordingHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args, site: ServedSite, **kwargs) -> None:
        self._site = site
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self._site.requested.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass


@contextmanager
def serve_directory(root: Path) -> Iterator[ServedSite]:
    """Serve root on 127.0.0.1 on a free port, in a thread, for the duration of the block."""
    site = ServedSite(base_url="", other_host="")
    with serving(partial(_RecordingHandler, site=site, directory=str(root))) as base_url:
        site.base_url, site.other_host = base_url, base_url.replace("127.0.0.1", "localhost")
        yield site


def render_fixtures(destination: Path, site: ServedSite) -> None:
    """Copy tests/fixtures/web into destination, with {{BASE}} and {{OTHER_HOST}} filled in for this server."""
    shutil.copytree(WEB_FIXTURES, destination, dirs_exist_ok=True)
    for path in destination.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            content = path.read_bytes()
            content = content.replace(b"{{BASE}}", site.base_url.encode()).replace(
                b"{{OTHER_HOST}}", site.other_host.encode()
            )
            path.write_bytes(content)


def served_web_fixtures(root: Path) -> Iterator[ServedSite]:
    """tests/fixtures/web rendered into root and served; for a pytest fixture to `yield from`."""
    with serve_directory(root) as site:
        render_fixtures(root, site)
        yield site
