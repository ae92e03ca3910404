"""Finding 12: the git crawler checks, pins and clones one parsed host.

The attack: URLs that one parser reads as a public host and another as loopback
(``https://1.1.1.1\\@127.0.0.1/``), so the address check and the address git connects to differ.
"""

import pytest

from apps.core.http import BlockedAddressError
from apps.sources.crawlers.base import SourceSpec
from apps.sources.crawlers.github import GitRepositoryCrawler
from tests.factories import make_author
from tests.security.listeners import tcp_listener
from tests.security.variants import GIT_AMBIGUOUS

AMBIGUOUS = GIT_AMBIGUOUS


@pytest.mark.parametrize("template", AMBIGUOUS)
def test_a_url_read_two_ways_never_reaches_the_loopback_listener(template):
    with tcp_listener() as listener:
        url = template.format(port=listener.port)
        with pytest.raises(BlockedAddressError, match="Refusing to fetch"):
            list(GitRepositoryCrawler().crawl(SourceSpec(url=url, kind="github")))

    assert listener.connections == 0


@pytest.mark.django_db
@pytest.mark.parametrize("template", AMBIGUOUS[:4])
def test_the_api_refuses_such_urls_when_the_source_is_saved(staff_api, template):
    payload = {"author": make_author().name, "url": template.format(port=8443), "kind": "github"}
    response = staff_api.post("/api/v1/sources", payload, format="json")
    assert response.status_code == 400
    assert "has a backslash or a space" in response.json()["error"]["message"]


def test_the_host_checked_is_the_host_pinned_and_cloned():
    with tcp_listener() as listener:
        crawler = GitRepositoryCrawler(allowed_hosts=[f"127.0.0.1:{listener.port}"])
        url, config = crawler._clone_url(f"https://127.0.0.1:{listener.port}/ada/engine.git", home="/nonexistent")

    assert url == f"https://127.0.0.1:{listener.port}/ada/engine.git"
    assert config == {"http.curloptResolve": f"127.0.0.1:{listener.port}:127.0.0.1"}
