"""Checks run before the service starts, each failing with one clear sentence."""

from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError

from lib.errors import ConfigurationError


def database_label() -> str:
    """Where the database is, without its password."""
    db = settings.DATABASES["default"]
    origin = "embedded, in DATA_DIR" if settings.DATABASE_EMBEDDED else "DATABASE_URL"
    host = db.get("HOST") or "local socket"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"{db.get('USER') or ''}@{host}{port}/{db.get('NAME')} ({origin})"


def redis_label() -> str:
    url = settings.REDIS_URL
    # redis://user:password@host:port/db -> drop the credentials
    scheme, _, rest = url.partition("://")
    origin = "embedded, in DATA_DIR" if settings.REDIS_EMBEDDED else "REDIS_URL"
    return f"{scheme}://{rest.rpartition('@')[2]} ({origin})"


def describe_database_error(exc: Exception) -> str:
    reason = " ".join(str(exc).split())  # psycopg spreads its reason over several lines
    return f"cannot connect to the database {database_label()}: {reason[:300]}"


def check_database() -> None:
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        raise ConfigurationError(describe_database_error(exc)) from None


def check_broker() -> None:
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5, socket_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        raise ConfigurationError(f"cannot reach the broker {redis_label()}: {exc}") from None
