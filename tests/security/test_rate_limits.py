"""Findings 5 and 7: the throttle is an atomic counter per user, and it fails open when Redis is out.

The attacks: 80 chat requests at once on one user's two keys against 30/min (70 got through, and a
second key doubled the limit); then the broker's Redis frozen, which turned every API call into a 500
after 5 s, and a frozen database, which held /healthz for 11 s.
"""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from apps.chat.keys import api_key_create
from apps.core.counters import counters_reset, window_hit
from tests.asgi import asgi_server
from tests.security.conftest import key_client
from tests.security.frozen import frozen, postmaster_pid, valkey_pid
from tests.security.listeners import tcp_listener


@pytest.fixture(autouse=True)
def counting():
    counters_reset()
    yield
    counters_reset()


def test_eighty_hits_at_once_are_counted_one_by_one():
    key = f"throttle:test:{id(object())}"
    with ThreadPoolExecutor(max_workers=16) as pool:
        counts = list(pool.map(lambda _: window_hit(key, window_s=60)[0], range(80)))
    assert sorted(counts) == list(range(1, 81))  # no two requests ever saw the same count


@pytest.mark.django_db(transaction=True)
def test_eighty_concurrent_chats_on_two_keys_of_one_user_get_exactly_thirty_through(tmp_path, mallory):
    keys = [api_key_create(user=mallory, name=name)[1] for name in ("phone", "laptop")]

    async def attack(base: str) -> list[int]:
        limits = httpx.Limits(max_connections=80)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
            requests = [
                # An empty message is refused with 400 after the throttle has counted the request.
                http.post("/api/v1/chat", json={}, headers={"Authorization": f"Bearer {keys[n % 2]}"})
                for n in range(80)
            ]
            return [response.status_code for response in await asyncio.gather(*requests)]

    with asgi_server(tmp_path, THROTTLE_CHAT="30/min") as base:
        statuses = asyncio.run(attack(base))

    assert (statuses.count(400), statuses.count(429)) == (30, 50)


@pytest.mark.django_db
def test_an_unanswering_redis_lets_requests_through_once_logged(settings, mallory, caplog):
    api = key_client(mallory)
    with tcp_listener(hold_s=5) as black_hole:  # accepts, then never answers
        settings.REDIS_URL = f"redis://:pw@127.0.0.1:{black_hole.port}/0"
        with caplog.at_level(logging.WARNING, logger="apps.core.counters"):
            statuses = [api.get("/api/v1/authors").status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert black_hole.connections == 1  # tried once, then left alone for a while
    [line] = [r.getMessage() for r in caplog.records if r.name == "apps.core.counters"]
    assert (
        line == f"Rate limits are not enforced for 10 s: Redis at redis://***@127.0.0.1:{black_hole.port}/0 "
        "did not answer (TimeoutError)."
    )


@pytest.mark.django_db(transaction=True)
def test_a_frozen_broker_neither_fails_the_api_nor_holds_the_health_probe(tmp_path, mallory):
    _, key = api_key_create(user=mallory, name="app")
    with asgi_server(tmp_path, METRICS_TOKEN="probe-token") as base:
        with frozen(valkey_pid()):
            api = httpx.get(f"{base}/api/v1/authors", headers={"Authorization": f"Bearer {key}"}, timeout=30)
            health = httpx.get(f"{base}/healthz", headers={"Authorization": "Bearer probe-token"}, timeout=30)
        log = (tmp_path / "server.log").read_text()

    assert api.status_code == 200
    assert "Rate limits are not enforced for 10 s" in log
    assert health.status_code == 503 and health.json()["status"] == "down"
    assert health.json()["checks"]["broker"] == {"up": False, "error": "TimeoutError"}


@pytest.mark.django_db(transaction=True)
def test_a_frozen_database_is_reported_down_within_the_health_timeout(tmp_path):
    probe = {"Authorization": "Bearer probe-token"}
    with asgi_server(tmp_path, HEALTH_TIMEOUT_S="1", METRICS_TOKEN="probe-token") as base:
        httpx.get(f"{base}/healthz", timeout=30)  # the server's first request, with everything up
        with frozen(postmaster_pid()):
            health = httpx.get(f"{base}/healthz", headers=probe, timeout=30)

    assert health.status_code == 503
    checks = health.json()["checks"]
    assert checks["database"] == checks["pgvector"] == {"up": False, "error": "timed out"}
    assert checks["broker"]["up"] is True
