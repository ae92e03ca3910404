"""Fixtures of the HTTP client tests: a real site on 127.0.0.1 and clients allowed to reach it."""

import pytest

from apps.core.http import HttpClient
from tests.core.http_site import LocalSite

USER_AGENT = "TwinsiteTest/1.0 (+https://twinsite.example/bot)"


@pytest.fixture
def site():
    with LocalSite() as local_site:
        yield local_site


@pytest.fixture
def client_for(site):
    """Builds clients allowed to reach the test site; every limit can be overridden per test."""
    clients: list[HttpClient] = []

    def make(**overrides) -> HttpClient:
        options = {
            "allowed_hosts": [f"127.0.0.1:{site.port}"],
            "user_agent": USER_AGENT,
            "timeout_s": 5.0,
            "max_bytes": 1024 * 1024,
            "max_redirects": 3,
            "host_interval_s": 0.0,
            "respect_robots": False,
        }
        clients.append(HttpClient(**(options | overrides)))
        return clients[-1]

    yield make
    for client in clients:
        client.close()
