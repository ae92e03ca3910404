"""A real Celery worker for the fault tests: started on the test database, its pool child found and killed."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
from django.conf import settings
from kombu.exceptions import OperationalError as KombuOperationalError

from twinsite.celery import app

ROOT = Path(__file__).resolve().parents[2]


def worker_start(*, database: str, log: Path, queues: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A worker with one pool process, consuming ``queues``, once it answers a ping. Its log goes to ``log``."""
    variables = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TWINSITE_TEST_DATABASE_NAME": database,
        **(env or {}),
    }
    name = f"faults-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "twinsite", "worker", "--queues", queues, "--concurrency", "1",
             "--hostname", name, "--loglevel", "WARNING"],
            cwd=ROOT, env=variables, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    wait_for(lambda: bool(app.control.ping(timeout=0.5)) or process.poll() is not None, timeout=60)
    assert process.poll() is None, log.read_text()
    process.hostname = name
    return process


def consume(process: subprocess.Popen, queue: str, *, start: bool) -> None:
    """Have the worker start or stop consuming a queue (remote control), once it answers."""
    control = app.control.add_consumer if start else app.control.cancel_consumer

    def answered() -> bool:
        try:
            return bool(control(queue, reply=True, destination=[process.hostname], timeout=0.5))
        except (OSError, KombuOperationalError):  # the broker is just back: ask again
            return False

    wait_for(answered, timeout=60)


def worker_stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def pool_child(process: subprocess.Popen) -> int:
    """The pid of the worker's one pool process: the one that runs tasks."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def kill_pool_child(process: subprocess.Popen) -> int:
    """SIGKILL the process running the task, as the kernel's OOM killer does; returns its pid."""
    pid = pool_child(process)
    os.kill(pid, signal.SIGKILL)
    return pid


def beat_start(*, database: str, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Celery beat on the database scheduler, as `manage.py serve` runs it."""
    variables = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "TWINSITE_TEST_DATABASE_NAME": database}
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "twinsite", "beat", "--loglevel", "WARNING"],
            cwd=ROOT, env={**variables, **(env or {})}, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


def broker() -> redis.Redis:
    """A fresh client of the broker (the app's pooled connections go stale when it restarts)."""
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queued(queue: str) -> int:
    """How many messages wait on a queue (Celery's Redis transport keeps each queue as a list)."""
    return broker().llen(queue)


def broker_drained() -> bool:
    """Nothing queued on any queue and nothing delivered but not yet acknowledged."""
    return not any(queued(queue) for queue in settings.WORKER_QUEUES) and not broker().hlen("unacked")


def wait_for(condition: Callable[[], object], *, timeout: float, every: float = 0.05) -> object:
    """Poll until condition() is truthy; fail the test if it never is."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"not reached within {timeout} s"
        time.sleep(every)
    return value
