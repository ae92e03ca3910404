"""Soak: mixed API traffic at a fixed rate for minutes, with the worker killed and PostgreSQL restarted mid-run.

Run through ``bench/api.py --soak``. It sets up as bench/api.py does (part of the Advanced Bash-Scripting
Guide in a throw-away DATA_DIR), starts uvicorn with two workers and a Celery worker on the service's
queues, then sends requests at ``--rate`` per second, open loop (each one at its time, answered or not):
search 40 %, chat 30 % (every other one continuing a conversation), feedback 15 % on an answer received,
conversations 15 % (the list, or one conversation). A share of the chats is scored for faithfulness on the
worker (RAG_FAITHFULNESS_SAMPLE), so the worker has work when it dies.

Faults: at a third of the run the worker's process group is SIGKILLed and started again ``--down-s``
later; at two thirds PostgreSQL is stopped (every connection dropped) and started again ``--down-s``
later. A fault window runs from the fault until ``--grace-s`` after the component is back; errors inside
are counted apart. Goals: no error outside the fault windows; RSS growth of each process at most 10 %
(from its first sample after the warm-up to the end; also reported for the second half alone, where a
model loaded late no longer counts); database connections bounded.
"""

import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
MIX = (("search", 40), ("chat", 30), ("feedback", 15), ("conversations", 15))
REQUEST_TIMEOUT_S = 120
SAMPLE_EVERY_S = 5.0
WARM_UP_S = 60.0  # models load on first use: RSS growth is measured from the first sample after this
WORKER_UP_S = 120


@dataclass
class Window:
    what: str
    start: float
    back: float | None = None  # when the component answered again

    def holds(self, moment: float, grace_s: float) -> bool:
        return self.start <= moment <= (self.back if self.back is not None else float("inf")) + grace_s


@dataclass
class Ledger:
    """Every request's kind, when it was sent, its outcome and latency; samples of processes and connections."""

    started: float = field(default_factory=time.monotonic)
    requests: list[tuple[str, float, str, float]] = field(default_factory=list)  # kind, sent at, outcome, ms
    windows: list[Window] = field(default_factory=list)
    rss: dict[tuple[str, int], list[tuple[float, int]]] = field(default_factory=dict)  # (role, pid) -> samples
    connections: list[tuple[float, int | None]] = field(default_factory=list)


def start_worker(data_dir: str, log: Path) -> subprocess.Popen:
    """A Celery worker as `manage.py serve` runs it, in its own process group (a kill takes its children)."""
    from django.conf import settings

    from twinsite.celery import app

    env = {**os.environ, "DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "twinsite.settings", "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "celery", "-A", "twinsite", "worker", "--loglevel", "WARNING",
               "--concurrency", "1", "--queues", ",".join(settings.WORKER_QUEUES), "--hostname", "soak@%h"]  # fmt: skip
    with log.open("a") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + WORKER_UP_S
    while not app.control.ping(timeout=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the Celery worker did not come up:\n{log.read_text()[-3000:]}")
    return process


def database_connections() -> int | None:
    """Backends connected to the twinsite database now (a fresh connection: the old one dies with a restart)."""
    import psycopg
    from django.db import connection

    try:
        with psycopg.connect(**{**connection.get_connection_params(), "connect_timeout": 2}) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            return int(row[0])
    except psycopg.Error:
        return None


class Sampler(threading.Thread):
    """Every SAMPLE_EVERY_S: the RSS of each web and worker process, and the database's connections."""

    def __init__(self, ledger: Ledger, roots: dict[str, subprocess.Popen]) -> None:
        super().__init__(daemon=True)
        self.ledger, self.roots, self.stopped = ledger, roots, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_EVERY_S):
            self.sample()

    def sample(self) -> None:
        moment = time.monotonic() - self.ledger.started
        for role, root in list(self.roots.items()):
            try:
                parent = psutil.Process(root.pid)
                processes = [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for process in processes:
                try:
                    rss = process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                self.ledger.rss.setdefault((role, process.pid), []).append((moment, rss))
        self.ledger.connections.append((moment, database_connections()))


async def traffic(
    base_url: str, key: str, questions: list[str], *, rate: float, seconds: float, ledger: Ledger
) -> None:
    """Open-loop arrivals at ``rate`` per second for ``seconds``, the kinds drawn from MIX (seeded)."""
    draw = random.Random(7)  # noqa: S311 - a seeded traffic mix, not secrecy
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    answered: list[int] = []  # message ids of answers, for feedback
    conversations: list[str] = []
    numbers = itertools.count()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S, limits=limits) as api:

        async def one(kind: str, number: int) -> None:
            question = questions[number % len(questions)]
            sent = time.monotonic()
            try:
                if kind == "search":
                    response = await api.get("/api/v1/search", params={"q": question})
                elif kind == "chat":
                    body: dict = {"message": question, "max_tokens": 8}
                    if conversations and number % 2:
                        body["conversation_id"] = conversations[-1]
                    response = await api.post("/api/v1/chat", json=body)
                    if response.status_code == 200:
                        answered.append(response.json()["message_id"])
                        conversations.append(response.json()["conversation_id"])
                elif kind == "feedback" and answered:
                    rating = "up" if number % 3 else "down"
                    response = await api.post(f"/api/v1/messages/{answered[-1]}/feedback", json={"rating": rating})
                elif kind in ("feedback", "conversations") and conversations and number % 2:
                    kind = "conversations"
                    response = await api.get(f"/api/v1/conversations/{conversations[-1]}")
                else:
                    kind = "conversations"
                    response = await api.get("/api/v1/conversations")
                outcome = str(response.status_code) if response.status_code >= 400 else "ok"
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            ledger.requests.append((kind, sent - ledger.started, outcome, (time.monotonic() - sent) * 1000))

        tasks = []
        begin = time.monotonic()
        while (elapsed := time.monotonic() - begin) < seconds:
            number = next(numbers)
            tasks.append(asyncio.create_task(one(draw.choice(kinds), number)))
            await asyncio.sleep(max(0.0, (number + 1) / rate - elapsed))
        await asyncio.gather(*tasks)


def faults(data_dir: str, worker_log: Path, roots: dict[str, subprocess.Popen], ledger: Ledger, args) -> None:
    """The worker SIGKILLed at a third of the run, PostgreSQL restarted at two thirds (runs in a thread)."""
    from apps.core import embedded

    def at(fraction: float) -> None:
        time.sleep(max(0.0, ledger.started + args.soak_minutes * 60 * fraction - time.monotonic()))

    at(1 / 3)
    window = Window("worker killed", time.monotonic() - ledger.started)
    ledger.windows.append(window)
    os.killpg(roots["worker"].pid, signal.SIGKILL)
    roots["worker"].wait()
    time.sleep(args.down_s)
    roots["worker"] = start_worker(data_dir, worker_log)
    window.back = time.monotonic() - ledger.started

    at(2 / 3)
    window = Window("postgresql restarted", time.monotonic() - ledger.started)
    ledger.windows.append(window)
    embedded.postgres_stop(Path(data_dir))
    time.sleep(args.down_s)
    embedded.postgres_start(Path(data_dir))
    window.back = time.monotonic() - ledger.started


def soak(base_url: str, key: str, questions: list[str], data_dir: str, web: subprocess.Popen, args) -> dict:
    ledger = Ledger()
    worker_log = Path(data_dir) / "worker.log"
    roots = {"web": web, "worker": start_worker(data_dir, worker_log)}
    ledger.started = time.monotonic()
    sampler = Sampler(ledger, roots)
    sampler.start()
    injector = threading.Thread(target=faults, args=(data_dir, worker_log, roots, ledger, args), daemon=True)
    injector.start()
    asyncio.run(traffic(base_url, key, questions, rate=args.rate, seconds=args.soak_minutes * 60, ledger=ledger))
    injector.join()
    sampler.stopped.set()
    sampler.join()
    sampler.sample()
    for root in roots.values():
        if root is not web:
            os.killpg(root.pid, signal.SIGTERM)
            root.wait(timeout=60)
    return report(ledger, args)


def report(ledger: Ledger, args) -> dict:
    def in_window(moment: float) -> bool:
        return any(window.holds(moment, args.grace_s) for window in ledger.windows)

    outside = [r for r in ledger.requests if not in_window(r[1])]
    inside = [r for r in ledger.requests if in_window(r[1])]
    by_kind: dict[str, dict] = {}
    for kind in sorted({r[0] for r in ledger.requests}):
        mine = [r for r in outside if r[0] == kind]
        latencies = sorted(r[3] for r in mine if r[2] == "ok")
        by_kind[kind] = {
            "requests": len(mine),
            "errors": sum(r[2] != "ok" for r in mine),
            "p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
            "p95_ms": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1) if latencies else None,
        }
    errors_outside = sum(r[2] != "ok" for r in outside)
    connections = [count for _, count in ledger.connections if count is not None]
    return {
        "requests": len(ledger.requests),
        "outside_fault_windows": {
            "requests": len(outside),
            "errors": errors_outside,
            "error_rate": round(errors_outside / len(outside), 4) if outside else None,
            "error_kinds": dict(Counter(r[2] for r in outside if r[2] != "ok")),
            "by_kind": by_kind,
        },
        "inside_fault_windows": {
            "requests": len(inside),
            "errors": sum(r[2] != "ok" for r in inside),
            "error_kinds": dict(Counter(r[2] for r in inside if r[2] != "ok")),
        },
        "fault_windows": [
            {
                "what": w.what,
                "at_s": round(w.start, 1),
                "back_at_s": round(w.back, 1) if w.back else None,
                "requests": len(mine := [r for r in inside if w.holds(r[1], args.grace_s)]),
                "errors": dict(Counter(r[2] for r in mine if r[2] != "ok")),
            }
            for w in ledger.windows
        ],
        "rss": rss_growth(ledger),
        "database_connections": {
            "max": max(connections, default=None),
            "first": connections[0] if connections else None,
            "last": connections[-1] if connections else None,
            "samples": len(connections),
            "unreachable_samples": sum(count is None for _, count in ledger.connections),
        },
    }


def rss_growth(ledger: Ledger) -> list[dict]:
    """Per process: RSS at its first sample after the warm-up, half-way and at its last; the growth over the whole
    span and over its second half (a model loaded late shows in the first, a leak in both)."""
    rows = []
    for (role, pid), samples in sorted(ledger.rss.items()):
        first_seen = samples[0][0]
        settled = [(moment, rss) for moment, rss in samples if moment >= first_seen + WARM_UP_S]
        if len(settled) < 3:
            continue  # lived too briefly to say (a pool child replaced, a process killed early)
        (start_s, start_rss), (_, mid_rss), (end_s, end_rss) = settled[0], settled[len(settled) // 2], settled[-1]
        rows.append({
            "role": role, "pid": pid, "from_s": round(start_s), "to_s": round(end_s),
            "rss_mb": [round(start_rss / 2**20, 1), round(mid_rss / 2**20, 1), round(end_rss / 2**20, 1)],
            "growth": round(end_rss / start_rss - 1, 4), "growth_second_half": round(end_rss / mid_rss - 1, 4),
        })  # fmt: skip
    return rows
