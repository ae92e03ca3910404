"""The embedded PostgreSQL and Valkey start once, are reused, and keep their data."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from apps.core import embedded

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir():
    path = Path(tempfile.mkdtemp(prefix="twe-", dir="/tmp"))
    yield path
    embedded.stop_all(path)
    subprocess.run(["rm", "-rf", str(path)], check=False)


def _libpq(url: str) -> str:
    # The embedded URL names the socket directory percent-encoded in the host, as dj-database-url reads it.
    import dj_database_url

    db = dj_database_url.parse(url)
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']}"


def test_second_start_of_embedded_database_reuses_its_data(data_dir):
    url = embedded.postgres_start(data_dir)
    assert url == embedded.postgres_url(data_dir)  # what the settings say, without starting anything
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    embedded.postgres_stop(data_dir)
    assert not embedded.postgres_is_running(data_dir)

    url_again = embedded.postgres_start(data_dir)
    assert embedded.postgres_is_running(data_dir)
    with psycopg.connect(_libpq(url_again)) as conn:
        assert conn.execute("SELECT note FROM kept").fetchone() == ("still here",)
        version = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    assert version is not None and version[0].startswith("0.8")


def test_simultaneous_starts_share_one_database_and_one_broker(data_dir):
    """Web, worker and beat start at the same moment: one server of each, the same URLs for all."""
    script = (
        "import json, sys; from pathlib import Path; from apps.core import embedded; "
        "d = Path(sys.argv[1]); print(json.dumps([embedded.postgres_start(d), embedded.redis_start(d)]))"
    )
    starters = [
        subprocess.Popen([sys.executable, "-c", script, str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in starters]
    assert all(p.returncode == 0 for p in starters)
    assert results[0] == results[1] == results[2]
    postmasters = subprocess.run(
        ["pgrep", "-f", f"postgres -D {data_dir}"], capture_output=True, text=True
    ).stdout.split()
    assert len(postmasters) == 1


def test_broker_is_reused_while_running_and_stops_cleanly(data_dir):
    import redis

    url = embedded.redis_start(data_dir)
    redis.Redis.from_url(url).set("twin", "ok")
    assert embedded.redis_start(data_dir) == url == embedded.redis_url(data_dir)
    assert redis.Redis.from_url(url).get("twin") == b"ok"
    embedded.redis_stop(data_dir)
    # Restarted, it comes back on its port (web apps and workers hold that URL), with what it held.
    assert embedded.redis_start(data_dir) == url
    assert redis.Redis.from_url(url).get("twin") == b"ok"
    embedded.redis_stop(data_dir)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()


def test_a_data_dir_too_long_for_a_socket_is_refused_clearly():
    from lib.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="too long"):
        embedded.postgres_url(Path("/tmp") / ("x" * 120))
    assert not os.path.exists("/tmp/" + "x" * 120)


def test_importing_the_settings_starts_no_server(data_dir):
    """Only manage.py, the test setup and the benches start the embedded servers, never an import."""
    embedded.redis_start(data_dir)
    embedded.redis_stop(data_dir)  # the broker has a recorded port, so the settings can say where it listens
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['HOST'])"
    )
    env = {**os.environ, "DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "twinsite.settings"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == str(data_dir.resolve() / "pg")
    assert not embedded.postgres_is_running(data_dir)
    assert not embedded.redis_is_running(data_dir)
