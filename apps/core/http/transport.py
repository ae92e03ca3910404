"""A requests Session whose every connection goes only to an address that passed the SSRF rules.

Why requests: it is already a dependency, handles chunked bodies, gzip/deflate, cookies and TLS
well, and its HTTPAdapter lets us choose urllib3's connection classes. Why check inside the
connection: urllib3 resolves the host name in ``HTTPConnection._new_conn``. Resolving there
ourselves, checking every address, and connecting to the IP literal we checked means the address
used is the address validated: there is no second lookup for DNS rebinding to answer differently.
This covers every connection: redirects, robots.txt and keep-alive reconnects alike. TLS still
verifies the certificate for the host name, since urllib3 wraps the socket with server_hostname=host.
"""

import contextlib
import socket
import threading

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

from apps.core.http.addresses import DEFAULT_PORTS, AllowedHosts, checked_addresses


def _connect_to_checked_address(conn: HTTPConnection, allowed: AllowedHosts, scheme: str) -> socket.socket:
    port = conn.port or DEFAULT_PORTS[scheme]
    try:
        addresses = checked_addresses(conn.host, port, allowed)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    failure: Exception | None = None
    for address in addresses:  # like socket.create_connection: the first address that answers wins
        try:
            sock = connection.create_connection(
                (address, port), conn.timeout, source_address=conn.source_address, socket_options=conn.socket_options
            )
            _watch(sock)
            return sock
        except TimeoutError as exc:
            failure = ConnectTimeoutError(conn, f"Connection to {conn.host} ({address}) timed out.")
            failure.__cause__ = exc
        except OSError as exc:
            failure = NewConnectionError(conn, f"Failed to connect to {conn.host} ({address}): {exc}")
            failure.__cause__ = exc
    raise failure or NewConnectionError(conn, f"{conn.host} has no address.")


_current = threading.local()  # the RequestDeadline of the request this thread is making, if any


class RequestDeadline:
    """An overall time limit for one request: headers and body, however slowly the server trickles them.

    Socket timeouts only bound each read, so a server sending a byte at a time never trips them.
    When the time is up a timer thread shuts the request's socket down, which ends any blocked read.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def __enter__(self) -> "RequestDeadline":
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _current.deadline = None

    def watch(self, sock: socket.socket) -> None:
        self._sock = sock

    def _cut(self) -> None:
        self.expired = True
        if self._sock is not None:
            # The plain socket method, also for TLS sockets: it only needs the file descriptor.
            with contextlib.suppress(OSError):  # already closed
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    """Hand the socket this thread's request uses to its deadline. The socket itself, not the connection:
    http.client drops the connection's reference once the response will close it."""
    deadline = getattr(_current, "deadline", None)
    if deadline is not None and sock is not None:
        deadline.watch(sock)


def _guarded_pool_classes(allowed: AllowedHosts) -> dict[str, type[HTTPConnectionPool]]:
    """Pool classes whose connections enforce this client's allow-list (classes closing over it,
    because urllib3 builds pools and connections itself from the class)."""

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _connect_to_checked_address(self, allowed, "http")

        def connect(self) -> None:
            super().connect()
            _watch(self.sock)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _connect_to_checked_address(self, allowed, "https")

        def connect(self) -> None:
            super().connect()
            _watch(self.sock)  # the TLS socket: wrapping detached the plain one watched during the handshake

    class GuardedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

        def _get_conn(self, timeout: float | None = None) -> HTTPConnection:
            reused = super()._get_conn(timeout)
            _watch(reused.sock)  # a kept-alive connection; new ones are watched when they connect
            return reused

    class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

        def _get_conn(self, timeout: float | None = None) -> HTTPConnection:
            reused = super()._get_conn(timeout)
            _watch(reused.sock)  # a kept-alive connection; new ones are watched when they connect
            return reused

    return {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}


class GuardedAdapter(HTTPAdapter):
    def __init__(self, allowed: AllowedHosts) -> None:
        self._pool_classes = _guarded_pool_classes(allowed)  # before super(): it calls init_poolmanager
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # A proxy would connect on our behalf, past the address checks.
        raise requests.exceptions.InvalidProxyURL("The crawler HTTP client does not use proxies.")


def guarded_session(allowed: AllowedHosts, user_agent: str) -> requests.Session:
    session = requests.Session()
    # No proxies or .netrc credentials from the environment: requests go straight to the checked address.
    session.trust_env = False
    session.adapters.clear()
    adapter = GuardedAdapter(allowed)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session
