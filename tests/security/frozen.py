"""Freeze a real server process (SIGSTOP) for the length of a block: a backend that stops answering."""

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings


def valkey_pid() -> int:
    return int((Path(settings.DATA_DIR) / "valkey" / "valkey.pid").read_text().strip())


def postmaster_pid() -> int:
    """The embedded PostgreSQL's postmaster: frozen, it accepts no new connection (existing ones still work)."""
    return int((Path(settings.DATA_DIR) / "pg" / "postmaster.pid").read_text().splitlines()[0])


@contextmanager
def frozen(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
