"""Bad configuration stops start-up with one clear line, never a traceback or a password."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "twinsite.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unreachable_database_url_gives_one_clear_line():
    result = _manage("migrate", DATABASE_URL="postgresql://twin:s3cret-pw@127.0.0.1:1/twinsite")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("twinsite: cannot connect to the database twin@127.0.0.1:1/twinsite (DATABASE_URL)")
    assert "Connection refused" in lines[0]
    assert "s3cret-pw" not in result.stderr


def test_database_url_that_is_not_postgresql_is_refused():
    result = _manage("check", DATABASE_URL="mysql://twin@db.internal/twin")
    assert result.returncode == 2
    assert result.stderr.strip() == "twinsite: DATABASE_URL must point at PostgreSQL (postgres://…) with pgvector"


def test_unreachable_broker_stops_serve_before_anything_starts():
    result = _manage("serve", "--port", "1", REDIS_URL="redis://:pw-broker@127.0.0.1:1/0")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("twinsite: cannot reach the broker redis://127.0.0.1:1/0 (REDIS_URL)")
    assert "pw-broker" not in result.stderr


def test_malformed_boolean_setting_is_named():
    result = _manage("check", DEBUG="maybe")
    assert result.returncode == 2
    assert result.stderr.strip() == "twinsite: DEBUG='maybe' is not a boolean (use 1/0, true/false, yes/no)"


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        HTTPS="1",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",  # opt-in, each its own setting (tests/security/test_deploy_settings.py)
        SECURE_HSTS_PRELOAD="1",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="twin.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
