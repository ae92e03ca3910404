"""Run the whole service: web (ASGI), a Celery worker and beat, until Ctrl-C.

Checks the database and broker first, migrates, collects static files and
makes sure an admin exists. If one process dies the others are stopped, so
the service is never half up. On exit the embedded servers are stopped too.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from apps.core import embedded, preflight

_STOP_GRACE_S = 15.0


class Command(BaseCommand):
    help = "Start web, worker and beat (and the embedded database and broker) until Ctrl-C."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "2")))

    def handle(self, *args, host: str, port: int, concurrency: int, **options) -> None:
        preflight.check_database()
        preflight.check_broker()
        call_command("migrate", interactive=False, verbosity=1)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("ensure_admin")
        connections.close_all()

        python = sys.executable
        commands = {
            "web": [python, "-m", "uvicorn", "twinsite.asgi:application", "--host", host, "--port", str(port)],
            "worker": [
                python, "-m", "celery", "-A", "twinsite", "worker", "--loglevel", "INFO",
                "--concurrency", str(concurrency), "--queues", ",".join(settings.WORKER_QUEUES),
                "--hostname", "twinsite@%h",
            ],
            "beat": [
                python, "-m", "celery", "-A", "twinsite", "beat", "--loglevel", "INFO",
                "--scheduler", settings.CELERY_BEAT_SCHEDULER,
                "--schedule", str(settings.DATA_DIR / "celerybeat-schedule"),
            ],
        }  # fmt: skip
        stop_requested = False

        def request_stop(signum, frame) -> None:
            nonlocal stop_requested
            stop_requested = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        # Own sessions: Ctrl-C reaches only this process, which stops the children in order.
        children = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in commands.items()}
        self.stdout.write(
            self.style.SUCCESS(
                f"Twinsite is starting on http://{host}:{port}/admin/ (health: /healthz). Ctrl-C stops everything."
            )
        )
        exit_code = 0
        try:
            while not stop_requested:
                dead = [name for name, child in children.items() if child.poll() is not None]
                if dead:
                    self.stderr.write(f"twinsite: {', '.join(dead)} exited; stopping the rest.")
                    exit_code = 1
                    break
                time.sleep(0.5)
        finally:
            self._stop_children(children)
            self._stop_embedded()
        if exit_code:
            sys.exit(exit_code)

    def _stop_children(self, children: dict[str, subprocess.Popen]) -> None:
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_S
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"twinsite: {name} did not stop in {_STOP_GRACE_S:.0f} s; killing it.")
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()

    def _stop_embedded(self) -> None:
        connections.close_all()
        if settings.REDIS_EMBEDDED:
            embedded.redis_stop(settings.DATA_DIR)
        if settings.DATABASE_EMBEDDED:
            embedded.postgres_stop(settings.DATA_DIR)
        self.stdout.write("Twinsite stopped.")
