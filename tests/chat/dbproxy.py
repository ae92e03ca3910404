"""A TCP front on 127.0.0.1 for the embedded PostgreSQL's Unix socket, that can go through a restart.

The test session's PostgreSQL serves every test, so it is not itself restarted: a server process under test
reaches it through this proxy, and ``restart`` does to that process what a PostgreSQL restart does: every
open connection is dropped, new ones are refused (nothing listens on the port) until ``restore``.
``restart_at`` restarts at an exact point of the protocol instead: when a client sends a given message
(a COMMIT, say), which never reaches the server, or when the server sends one (its answer to a COMMIT,
which then never reaches the client: the transaction is committed, and the client cannot know it).
"""

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

# psycopg's commit: a simple-protocol Query message, "Q", its length, the text and a NUL.
COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"
# The server's answer once it has committed: CommandComplete, "C", its length and the tag "COMMIT".
COMMITTED = b"C\x00\x00\x00\x0bCOMMIT\x00"


class PostgresProxy:
    def __init__(self, unix_socket: Path) -> None:
        self.unix_socket = str(unix_socket)
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._trigger: tuple[bytes, bool, Callable[[], None]] | None = None

    def listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def restart(self) -> None:
        """Drop every connection and refuse new ones, as a database going down does."""
        if self._listener is not None:
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def restart_at(self, message: bytes, *, from_server: bool = False, then: Callable[[], None] = lambda: None) -> None:
        """Restart when a client (or the server) next sends message, which is not passed on; then call `then`."""
        self._trigger = (message, not from_server, then)

    def restore(self) -> None:
        self.listen()  # the same port: the server under test keeps its DATABASE_URL

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by restart
            upstream = socket.socket(socket.AF_UNIX)
            try:
                upstream.connect(self.unix_socket)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, target, from_client in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(source, target, from_client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                if (trigger := self._trigger) and trigger[1] == from_client and trigger[0] in data:
                    self._trigger = None
                    self.restart()
                    trigger[2]()
                    return
                target.sendall(data)
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with self._lock:
            self._open.discard(source)


@contextmanager
def postgres_proxy(unix_socket: Path) -> Iterator[PostgresProxy]:
    proxy = PostgresProxy(unix_socket)
    proxy.listen()
    try:
        yield proxy
    finally:
        proxy.restart()


@contextmanager
def connected_through(proxy: PostgresProxy) -> Iterator[None]:
    """This thread's Django connection goes through the proxy for the block, then back to the socket it used."""
    from django.db import connection

    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(HOST=saved["HOST"], PORT=saved["PORT"])
