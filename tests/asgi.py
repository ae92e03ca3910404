"""uvicorn serving the site on the test database, for tests that need a real HTTP server."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def asgi_server(workdir: Path, *, collect_static: bool = False, **settings: str) -> Iterator[str]:
    """Start uvicorn with the test settings (plus ``settings`` as environment) and yield its base URL.

    Needs committed data (``transactional_db``): the server is another process. Its log goes to a file in
    ``workdir`` (a pipe nobody reads would fill and stall it) and is printed when the block ends.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TWINSITE_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
        **settings,
    }
    if collect_static:  # as `serve` does: pages load their assets through WhiteNoise
        env["STATIC_ROOT"] = str(workdir / "static")
        command = [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"]
        subprocess.run(command, cwd=ROOT, env=env, check=True)
    port = free_port()
    log = workdir / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "twinsite.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the ASGI server did not come up"
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        print(f"--- server log ---\n{log.read_text()[-4000:]}")  # shown only when the test fails
