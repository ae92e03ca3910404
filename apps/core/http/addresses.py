"""Which URLs, ports and addresses a crawler may reach: the SSRF rules.

Shared by the HTTP client (enforced on the socket it actually opens) and by the git
crawler (``url_is_allowed`` before ``git clone``). Only the allow-list, meant for tests
and local development, lets a host reach a non-public address.
"""

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from apps.core.http.errors import BlockedAddressError, FetchError
from lib.errors import ConfigurationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}

# The ports browsers refuse to fetch from (WHATWG Fetch "bad port"): mail, IRC, SSH, DNS and the
# like, where a crafted HTTP request can smuggle commands into another protocol.
BAD_PORTS = frozenset(
    {0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104}
    | {109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515}
    | {526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049}
    | {3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080}
)

# Cloud instance-metadata endpoints. Most are non-public anyway; Azure's and Oracle's are not.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
    + ("192.0.0.192",)
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_BLOCKED_KINDS = (
    ("is_loopback", "a loopback address"),
    ("is_unspecified", "an unspecified address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_reserved", "a reserved address"),
    ("is_private", "a private address"),
)


class AddressRefused(Exception):
    """Internal: raised below urllib3, which must not swallow it; the client turns it into BlockedAddressError."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalize_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class AllowedHosts:
    """Entries "host" (any port) or "host:port" ("[v6]:port" for IPv6) that may reach non-public addresses."""

    entries: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def parse(cls, hosts: Iterable[str]) -> "AllowedHosts":
        return cls(frozenset(_parse_entry(entry) for entry in hosts if entry.strip()))

    def permits(self, host: str, port: int) -> bool:
        host = normalize_host(host)
        return (host, None) in self.entries or (host, port) in self.entries


def _parse_entry(entry: str) -> tuple[str, int | None]:
    entry = entry.strip()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:
        host, port = entry, ""
    if port and not port.isdigit():
        raise ConfigurationError(f"The crawler allow-list entry {entry!r} is not host or host:port.")
    return normalize_host(host), int(port) if port else None


def block_reason(address: IPAddress) -> str | None:
    """Why a crawler must not connect to this address, or None when it is a public one."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        for embedded in _embedded_ipv4(address):
            reason = block_reason(embedded)
            if reason:
                return f"{reason} ({embedded}) inside an IPv6 address"
    for flag, reason in _BLOCKED_KINDS:
        if getattr(address, flag):
            return reason
    return None if address.is_global else "a non-public address"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address routes to: mapped, 6to4, Teredo client and NAT64."""
    embedded = [address.ipv4_mapped, address.sixtofour, address.teredo[1] if address.teredo else None]
    if address in _NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [candidate for candidate in embedded if candidate is not None]


def checked_addresses(host: str, port: int, allowed: AllowedHosts) -> list[str]:
    """Resolve host once and return its addresses, refusing if the port or ANY address is not allowed.

    Raises AddressRefused, or socket.gaierror when the name does not resolve.
    """
    permitted = allowed.permits(host, port)
    if port in BAD_PORTS and not permitted:
        raise AddressRefused(f"port {port} is not allowed")
    infos = socket.getaddrinfo(normalize_host(host), port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if permitted:
        return addresses
    for address in addresses:
        reason = block_reason(ipaddress.ip_address(address))
        if reason and _is_literal(host):
            raise AddressRefused(f"{address} is {reason}")
        if reason:
            raise AddressRefused(f"{host} resolves to {address}, {reason}")
    return addresses


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(normalize_host(host))
    except ValueError:
        return False
    return True


def url_host_port(url: str, allowed: AllowedHosts) -> tuple[str, int]:
    """Check what can be checked without DNS (scheme, host, port) and return the host and port.

    Uses urllib3's URL parser, the one requests connects with, so the check and the request agree on the host.
    """
    try:
        parts = parse_url(url)
    except LocationParseError:
        raise AddressRefused("it is not a valid URL") from None
    scheme = (parts.scheme or "").lower()
    if scheme not in DEFAULT_PORTS:
        raise AddressRefused(f"only http and https URLs can be fetched, not {scheme or 'a URL without a scheme'}")
    if not parts.host:
        raise AddressRefused("the URL has no host")
    port = parts.port or DEFAULT_PORTS[scheme]
    if port in BAD_PORTS and not allowed.permits(parts.host, port):
        raise AddressRefused(f"port {port} is not allowed")
    return normalize_host(parts.host), port


@dataclass(frozen=True)
class CheckedUrl:
    """A URL parsed once, and the addresses its host resolved to when checked."""

    scheme: str
    host: str
    port: int
    path: str
    query: str | None
    addresses: list[str]

    @property
    def url(self) -> str:
        """The URL rebuilt from this one parse: another client handed it reads the same host."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path or '/'}{'?' + self.query if self.query else ''}"


_AMBIGUOUS = frozenset("\\ \t\r\n")


def url_checked(url: str, *, allowed_hosts: Iterable[str] = ()) -> CheckedUrl:
    """Like url_is_allowed, for a client that connects by other means (git): the host to pin and the URL
    to hand over come from the parse that was checked. URLs that parsers read differently (a backslash,
    whitespace, userinfo) are refused outright."""
    if _AMBIGUOUS & set(url) or "@" in url.split("://", 1)[-1].split("/", 1)[0]:
        raise BlockedAddressError(
            url, f"Refusing to fetch {url}: a backslash, whitespace or userinfo makes its host ambiguous."
        )
    allowed = AllowedHosts.parse(allowed_hosts)
    try:
        host, port = url_host_port(url, allowed)
        parts = parse_url(url)
        addresses = checked_addresses(host, port, allowed)
    except AddressRefused as refused:
        raise BlockedAddressError(url, f"Refusing to fetch {url}: {refused.reason}.") from None
    except (socket.gaierror, UnicodeError):
        raise FetchError(url, f"Cannot fetch {url}: its host name does not resolve.") from None
    return CheckedUrl((parts.scheme or "").lower(), host, port, parts.path or "/", parts.query, addresses)


def url_is_allowed(url: str, *, allowed_hosts: Iterable[str] = ()) -> list[str]:
    """Raise BlockedAddressError unless url is http(s) on an allowed port and EVERY address of its host is public.

    Returns the addresses checked, so a caller that connects by other means (git) can pin them.
    Raises plain FetchError when the host name does not resolve.
    """
    allowed = AllowedHosts.parse(allowed_hosts)
    try:
        host, port = url_host_port(url, allowed)
        return checked_addresses(host, port, allowed)
    except AddressRefused as refused:
        raise BlockedAddressError(url, f"Refusing to fetch {url}: {refused.reason}.") from None
    except (socket.gaierror, UnicodeError):
        raise FetchError(url, f"Cannot fetch {url}: its host name does not resolve.") from None


def address_is_allowed(host: str, port: int, *, allowed_hosts: Iterable[str] = ()) -> list[str]:
    """The same rules for a host reached by another protocol (a MongoDB server): its addresses, or
    BlockedAddressError (a refused port or a non-public address), or FetchError (it does not resolve)."""
    allowed = AllowedHosts.parse(allowed_hosts)
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        return checked_addresses(host, port, allowed)
    except AddressRefused as refused:
        raise BlockedAddressError(where, f"Refusing to connect to {where}: {refused.reason}.") from None
    except (socket.gaierror, UnicodeError):
        raise FetchError(where, f"Cannot connect to {where}: its host name does not resolve.") from None
