"""The SSRF rules: which URLs and addresses the crawler HTTP client and url_is_allowed refuse.

Every refused fetch is checked against a real server on 127.0.0.1 that must never see the request.
DNS answers for made-up names are faked (DNS itself is not under test); everything else is real.
"""

import re
import socket

import pytest
import urllib3.util.connection

from apps.core.http import BlockedAddressError, FetchError, HttpClient, url_is_allowed
from lib.errors import ConfigurationError
from tests.core.http_site import LocalSite, answer, redirect

PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture
def site():
    with LocalSite() as local_site:
        local_site.routes["/post"] = answer("<p>Hello</p>")
        yield local_site


def make_client(*allowed_hosts: str, max_redirects: int = 3) -> HttpClient:
    return HttpClient(
        allowed_hosts=allowed_hosts,
        user_agent="TwinsiteTest/1.0",
        timeout_s=2.0,
        max_bytes=1024 * 1024,
        max_redirects=max_redirects,
        host_interval_s=0.0,
        respect_robots=False,
    )


class FakeDns:
    """Answers for made-up names: name -> one list of addresses per lookup (the last one repeats)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []
        self._real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host not in self.answers:
            return self._real_getaddrinfo(host, port, *args, **kwargs)
        self.lookups.append(host)
        replies = self.answers[host]
        addresses = replies.pop(0) if len(replies) > 1 else replies[0]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
            if ":" in address
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in addresses
        ]


@pytest.fixture
def fake_dns(monkeypatch):
    dns = FakeDns()
    monkeypatch.setattr(socket, "getaddrinfo", dns.getaddrinfo)
    return dns


def test_loopback_is_refused_without_the_allow_list(site):
    with make_client() as client, pytest.raises(BlockedAddressError, match="127.0.0.1 is a loopback address"):
        client.get(site.url("/post"))
    with pytest.raises(BlockedAddressError):
        url_is_allowed(site.url("/post"))
    assert site.seen == []


def test_allow_list_entry_with_a_port_admits_only_that_port(site):
    with make_client(f"127.0.0.1:{site.port + 1}") as client, pytest.raises(BlockedAddressError):
        client.get(site.url("/post"))
    with make_client(f"127.0.0.1:{site.port}") as client:
        assert client.get(site.url("/post")).text == "<p>Hello</p>"
    url_is_allowed(site.url("/post"), allowed_hosts=[f"127.0.0.1:{site.port}"])


def test_allow_list_entry_without_port_admits_any_port_case_insensitively(site):
    with make_client("LocalHost") as client:
        assert client.get(f"http://LOCALHOST:{site.port}/post").status == 200
    url_is_allowed(f"http://localhost.:{site.port}/", allowed_hosts=["localhost"])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
        ("http://168.63.129.16/metadata/instance", "cloud metadata"),
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.1/admin", "private"),
        ("http://100.64.0.1/", "non-public"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback address (127.0.0.1) inside an IPv6 address"),
        ("http://[::ffff:a9fe:a9fe]/", "cloud metadata"),
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("http://[fe80::1]/", "link-local"),
        ("http://2130706433/", "2130706433 resolves to 127.0.0.1, a loopback address"),  # decimal 127.0.0.1
        ("http://127.1/", "loopback"),
    ],
)
def test_non_public_addresses_are_refused(url, reason):
    with pytest.raises(BlockedAddressError, match=re.escape(reason)) as caught:
        url_is_allowed(url)
    assert caught.value.url == url
    with make_client() as client, pytest.raises(BlockedAddressError):
        client.get(url)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://127.0.0.1:70/_stats", "ftp://example.com/", "javascript:alert(1)"]
)
def test_non_http_schemes_are_refused(url):
    with pytest.raises(BlockedAddressError, match="only http and https"):
        url_is_allowed(url, allowed_hosts=["127.0.0.1", "example.com"])
    with make_client("127.0.0.1") as client, pytest.raises(BlockedAddressError, match="only http and https"):
        client.get(url)


def test_ports_of_other_protocols_are_refused_before_any_lookup(fake_dns):
    fake_dns.answers["mail.example"] = [[PUBLIC_ADDRESS]]
    with pytest.raises(BlockedAddressError, match="port 25 is not allowed"):
        url_is_allowed("http://mail.example:25/")
    assert fake_dns.lookups == []
    url_is_allowed("http://mail.example:8080/")


@pytest.mark.parametrize("target", ["http://10.0.0.1/", "http://127.0.0.2:{port}/", "http://[::1]:{port}/post"])
def test_redirect_to_a_private_address_is_refused(site, target):
    location = target.format(port=site.port)
    site.routes["/start"] = redirect(location)

    with make_client(f"127.0.0.1:{site.port}") as client, pytest.raises(BlockedAddressError) as caught:
        client.get(site.url("/start"))

    assert caught.value.url == location
    assert site.paths_seen() == ["/start"]


def test_hostname_resolving_to_a_private_address_is_refused(site, fake_dns):
    fake_dns.answers["intranet.example"] = [["10.1.2.3"]]
    url = f"http://intranet.example:{site.port}/post"

    with pytest.raises(BlockedAddressError, match="intranet.example resolves to 10.1.2.3, a private address"):
        url_is_allowed(url)
    with make_client(f"127.0.0.1:{site.port}") as client, pytest.raises(BlockedAddressError):
        client.get(url)


def test_every_resolved_address_is_checked(fake_dns):
    fake_dns.answers["mixed.example"] = [[PUBLIC_ADDRESS, "::1"]]
    fake_dns.answers["blog.example"] = [[PUBLIC_ADDRESS]]

    with pytest.raises(BlockedAddressError, match="::1, a loopback address"):
        url_is_allowed("https://mixed.example/")
    url_is_allowed("https://blog.example/posts/1")


def test_unresolvable_host_is_a_fetch_error_not_a_blocked_one(fake_dns):
    fake_dns.answers["nowhere.example"] = [[]]

    with pytest.raises(FetchError, match="does not resolve") as caught:
        url_is_allowed("https://nowhere.example/")
    assert not isinstance(caught.value, BlockedAddressError)
    with make_client() as client, pytest.raises(FetchError, match="does not resolve"):
        client.get("https://nowhere.example/")


def test_connection_goes_to_the_address_that_was_checked(site, fake_dns, monkeypatch):
    """DNS rebinding: a name that answers a public address once, then loopback, must not reach loopback."""
    fake_dns.answers["rebind.example"] = [[PUBLIC_ADDRESS], ["127.0.0.1"]]
    dialled: list[tuple[str, int]] = []
    real_create_connection = urllib3.util.connection.create_connection

    def create_connection(address, *args, **kwargs):
        dialled.append(address)
        if address[0] == PUBLIC_ADDRESS:  # stands in for the public host; tests stay off the internet
            raise ConnectionRefusedError("refused")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)

    with make_client(f"127.0.0.1:{site.port}") as client, pytest.raises(FetchError, match="connection failed"):
        client.get(f"http://rebind.example:{site.port}/post")

    assert dialled == [(PUBLIC_ADDRESS, site.port)]
    assert fake_dns.lookups == ["rebind.example"]
    assert site.seen == []


def test_malformed_allow_list_entry_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="host:port"):
        make_client("127.0.0.1:http")
