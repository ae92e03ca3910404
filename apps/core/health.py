"""The state of each backend the service depends on, for /healthz.

The checks run at once, each in a thread of its own, and the answer waits at most HEALTH_TIMEOUT_S:
a frozen database or broker is reported as down ("timed out") instead of holding the probe for the
backends' own connect timeouts one after another.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from django.conf import settings
from django.db import connection

Status = dict[str, Any]


def database_status() -> Status:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
    except Exception as exc:  # any failure means "down"; the reason is reported, not raised
        return {"up": False, "error": exc.__class__.__name__}
    return {"up": True, "version": version, "embedded": settings.DATABASE_EMBEDDED}


def pgvector_status() -> Status:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
    except Exception as exc:
        return {"up": False, "error": exc.__class__.__name__}
    if row is None:
        return {"up": False, "error": "extension vector is not installed (run migrate)"}
    return {"up": True, "version": row[0]}


def broker_status() -> Status:
    import redis

    try:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 0)
        )
        client.ping()
    except redis.RedisError as exc:
        return {"up": False, "error": exc.__class__.__name__}
    return {"up": True, "embedded": settings.REDIS_EMBEDDED}


def worker_status(timeout: float = 1.0) -> Status:
    from twinsite.celery import app

    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception as exc:
        return {"up": False, "error": exc.__class__.__name__}
    workers = sorted(name for reply in replies for name in reply)
    return {"up": bool(workers), "workers": workers}


def _in_thread(check: Callable[[], Status]) -> Status:
    try:
        return check()
    finally:
        connection.close()  # this thread's own connection, if the check opened one


def service_health(*, timeout_s: float | None = None) -> Status:
    """Overall: "ok", "degraded" (no worker: chat works, ingestion waits) or "down"."""
    timeout_s = settings.HEALTH_TIMEOUT_S if timeout_s is None else timeout_s
    checks_to_run = {
        "database": database_status,
        "pgvector": pgvector_status,
        "broker": broker_status,
        "worker": worker_status,
    }
    pool = ThreadPoolExecutor(max_workers=len(checks_to_run), thread_name_prefix="healthz")
    futures = {name: pool.submit(_in_thread, check) for name, check in checks_to_run.items()}
    done, _ = wait(futures.values(), timeout=timeout_s)
    pool.shutdown(wait=False)  # a check still stuck on a frozen backend ends on its own connect timeout
    checks = {
        name: future.result() if future in done else {"up": False, "error": "timed out"}
        for name, future in futures.items()
    }
    if not checks["broker"]["up"]:
        checks["worker"] = {"up": False, "error": "broker down"}
    if not all(checks[name]["up"] for name in ("database", "pgvector", "broker")):
        state = "down"
    elif not checks["worker"]["up"]:
        state = "degraded"
    else:
        state = "ok"
    return {"status": state, "checks": checks}
