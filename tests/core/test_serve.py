"""`make run`: one command starts web, worker and beat on embedded services; Ctrl-C stops them all."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from apps.core import embedded

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.slow
def test_serve_starts_everything_and_ctrl_c_stops_it_all():
    data_dir = Path(tempfile.mkdtemp(prefix="tws-", dir="/tmp"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TWINSITE_TEST_OWNS_DATA_DIR"}}
    env.update(DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="twinsite.settings", WORKER_CONCURRENCY="1")
    env["METRICS_TOKEN"] = "serve-probe"  # health details (embedded, worker names) are for the token's bearer
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        health: dict = {}
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and health.get("status") != "ok":
            assert server.poll() is None, server.stdout.read()
            with contextlib.suppress(OSError, ValueError):  # not listening yet
                health = json.loads(
                    _get(f"http://127.0.0.1:{port}/healthz", {"Authorization": "Bearer serve-probe"})[1]
                )
            time.sleep(1)
        assert health.get("status") == "ok", health
        assert health["checks"]["database"]["embedded"] and health["checks"]["broker"]["embedded"]
        assert health["checks"]["worker"]["workers"]

        status, page = _get(f"http://127.0.0.1:{port}/admin/login/")
        assert status == 200 and "Twinsite" in page
        status, _ = _get(f"http://127.0.0.1:{port}/static/admin/css/base.css")
        assert status == 200

        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
        assert server.returncode == 0, output
        assert "Twinsite stopped." in output
        assert "has no password yet" in output  # the admin exists and the operator is told how to log in
        assert not embedded.postgres_is_running(data_dir)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1)
    finally:
        if server.poll() is None:
            server.kill()
        embedded.stop_all(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
