"""The state of each backend the service depends on, for /healthz."""

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
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
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


def service_health() -> Status:
    """Overall: "ok", "degraded" (no worker: chat works, ingestion waits) or "down"."""
    checks = {
        "database": database_status(),
        "pgvector": pgvector_status(),
        "broker": broker_status(),
    }
    checks["worker"] = worker_status() if checks["broker"]["up"] else {"up": False, "error": "broker down"}
    if not all(checks[name]["up"] for name in ("database", "pgvector", "broker")):
        state = "down"
    elif not checks["worker"]["up"]:
        state = "degraded"
    else:
        state = "ok"
    return {"status": state, "checks": checks}
