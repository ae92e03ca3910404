"""Finding 10: /metrics needs METRICS_TOKEN with DEBUG off, and anonymous /healthz says only up or down.

The attack, against uvicorn on 127.0.0.1: a request from this host (as a reverse proxy here forwards
everyone's) reads /metrics without a token, and anyone reads server versions and worker host names
from /healthz.
"""

import httpx
import pytest

from tests.asgi import asgi_server

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "probe-token-0123456789"


def test_metrics_and_health_details_need_the_token_even_from_this_host(tmp_path):
    with asgi_server(tmp_path, METRICS_TOKEN=TOKEN) as base:
        bare = httpx.get(f"{base}/metrics", timeout=30)
        wrong = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer probe-token"}, timeout=30)
        scraped = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        anonymous = httpx.get(f"{base}/healthz", timeout=30)
        detailed = httpx.get(f"{base}/healthz", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)

    assert (bare.status_code, wrong.status_code, scraped.status_code) == (403, 403, 200)
    assert bare.json()["error"]["code"] == "forbidden" and "twinsite_" not in bare.text
    assert "twinsite_requests_24h" in scraped.text
    assert set(anonymous.json()["checks"]["database"]) == {"up"}
    assert all(set(check) == {"up"} for check in anonymous.json()["checks"].values())
    assert "version" not in anonymous.text and "embedded" not in anonymous.text
    assert detailed.json()["checks"]["database"]["version"].startswith("18")


def test_without_a_token_set_nobody_reads_metrics_not_even_from_loopback(client, settings):
    settings.METRICS_TOKEN, settings.DEBUG = "", False
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer").status_code == 403
