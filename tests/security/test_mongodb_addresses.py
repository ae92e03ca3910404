"""Finding 3: mongodb:// warehouse sources obey the crawler's address rules and allow-list.

The attack: a staff key points a warehouse source at loopback, [::1], the metadata address or a
private network, in every spelling, or at SRV records that name such hosts, then crawls it. A real
listener on 127.0.0.1 stands where an internal service would: it must never be contacted.
"""

import dns.resolver
import pytest

from apps.sources.crawling import crawl_run_execute
from apps.sources.models import CrawlRun
from apps.sources.services import crawl_run_create, source_create
from tests.factories import make_author
from tests.security.dns_server import dns_server
from tests.security.listeners import mongo_hello_reply, tcp_listener
from tests.security.variants import MONGODB_ELSEWHERE, MONGODB_LOOPBACK

pytestmark = pytest.mark.django_db

LOOPBACK, ELSEWHERE = MONGODB_LOOPBACK, MONGODB_ELSEWHERE


def _crawl(url: str) -> CrawlRun:
    source = source_create(author=make_author(), url=url, kind="warehouse")
    return crawl_run_execute(run_id=crawl_run_create(source=source).pk, on_document=lambda _: None)


@pytest.mark.parametrize("template", LOOPBACK)
def test_a_loopback_listener_is_never_contacted(template):
    with tcp_listener() as listener:
        run = _crawl(template.format(port=listener.port))

    assert run.status == CrawlRun.Status.FAILED
    assert "was not contacted. Refusing to connect" in run.errors[-1]["error"]
    assert listener.connections == 0


@pytest.mark.parametrize("url", ELSEWHERE)
def test_private_metadata_and_bad_port_addresses_are_refused(url):
    run = _crawl(url)

    assert run.status == CrawlRun.Status.FAILED
    assert "Refusing to connect" in run.errors[-1]["error"]


@pytest.mark.parametrize(
    ("target", "reason"),
    [("0 0 22 db.evil.test.", "port 22 is not allowed"), ("0 0 27017 db.evil.test.", "does not resolve")],
)
def test_the_hosts_behind_srv_records_are_checked_too(monkeypatch, target, reason):
    records = {("_mongodb._tcp.twin.evil.test.", "SRV"): [target]}
    with dns_server(records) as port:
        resolver = dns.resolver.Resolver(configure=False)  # where pymongo's SRV look-ups go: this server
        resolver.nameservers, resolver.port = ["127.0.0.1"], port
        monkeypatch.setattr(dns.resolver, "default_resolver", resolver)
        run = _crawl("mongodb+srv://twin.evil.test/")

    error = run.errors[-1]["error"]
    assert run.status == CrawlRun.Status.FAILED
    assert f"db.evil.test:{target.split()[2]}" in error and reason in error  # the record's target, checked


def test_an_allow_listed_host_is_contacted_but_not_the_members_it_announces(crawl_settings):
    """The allow-list is the one way to loopback; the server then cannot steer the driver elsewhere."""
    with tcp_listener() as elsewhere:

        def announce(message: bytes) -> bytes | None:
            return mongo_hello_reply(message, setName="rs0", hosts=[f"127.0.0.1:{elsewhere.port}"])

        with tcp_listener(respond=announce) as listener:
            run = _crawl(f"mongodb://127.0.0.1:{listener.port}/")

    assert listener.connections >= 1  # the handshake arrived: the listener is real
    assert elsewhere.connections == 0
    assert run.status == CrawlRun.Status.FAILED  # the fake server hangs up on the first query
    assert "Could not read the MongoDB warehouse" in run.errors[-1]["error"]
