"""Finding 11: one environment setting per concern, and `check --deploy` clean with the documented .env.

The production .env is .env.example with its secrets filled in; the checks run in a fresh process,
as `docker compose` would start one.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def documented_env() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {key: value or secrets.token_urlsafe(50) for key, value in env.items()}  # the operator's secrets


def settings_in_a_fresh_process(env: dict[str, str], *names: str, command: list[str] | None = None):
    base = {k: v for k, v in os.environ.items() if k not in {"HTTPS", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    params = connection.settings_dict
    database = f"postgres://{params['USER']}@/{params['NAME']}?host={params['HOST']}&port={params['PORT']}"
    environment = {**base, "DATABASE_URL": database, "REDIS_URL": settings.REDIS_URL, **env}
    script = command or [
        sys.executable, "-c",
        "import django, json; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}))",
    ]  # fmt: skip
    environment["DJANGO_SETTINGS_MODULE"] = "twinsite.settings"
    return subprocess.run(script, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


@pytest.mark.django_db
def test_the_documented_production_env_passes_check_deploy():
    done = settings_in_a_fresh_process(
        documented_env(), command=[sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


@pytest.mark.django_db
def test_each_https_concern_is_its_own_setting():
    import json

    names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
             "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER"]  # fmt: skip
    cookies_only = settings_in_a_fresh_process({"SESSION_COOKIE_SECURE": "1", "CSRF_COOKIE_SECURE": "1"}, *names)
    assert json.loads(cookies_only.stdout) == {
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0, "SECURE_HSTS_INCLUDE_SUBDOMAINS": False, "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }  # fmt: skip
    https = settings_in_a_fresh_process({"HTTPS": "1"}, *names)
    assert json.loads(https.stdout) == {
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": False, "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }  # fmt: skip
    no_redirect = settings_in_a_fresh_process({"HTTPS": "1", "SECURE_SSL_REDIRECT": "0"}, *names)
    assert json.loads(no_redirect.stdout)["SECURE_SSL_REDIRECT"] is False
