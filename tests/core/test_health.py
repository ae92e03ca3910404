import pytest

pytestmark = pytest.mark.django_db


def test_healthz_tells_anyone_up_or_down_per_backend_and_no_more(client):
    response = client.get("/healthz")
    assert response.json() == {
        "status": "degraded",  # no worker runs in this test
        "checks": {name: {"up": name != "worker"} for name in ("database", "pgvector", "broker", "worker")},
    }


def test_healthz_details_are_for_staff(client, curator):
    client.force_login(curator)
    response = client.get("/healthz")
    body = response.json()
    checks = body["checks"]
    assert checks["database"]["up"] and checks["database"]["version"].startswith("18")
    assert checks["pgvector"] == {"up": True, "version": checks["pgvector"]["version"]}
    assert checks["pgvector"]["version"].startswith("0.8")
    assert checks["broker"]["up"]
    # No worker runs in this test: the service can answer but ingestion waits.
    assert checks["worker"]["up"] is False
    assert body["status"] == "degraded"
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_503_when_the_broker_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.METRICS_TOKEN = "probe-token"  # a monitoring probe may read the details with it
    response = client.get("/healthz", HTTP_AUTHORIZATION="Bearer probe-token")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["broker"] == {"up": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["up"]
