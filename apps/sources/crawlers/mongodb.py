"""A live MongoDB warehouse, reached only at addresses that pass the crawler's SSRF rules.

Every host of a ``mongodb://`` URI, and every host the SRV records behind ``mongodb+srv://``
name (then and when the driver polls them again), must resolve to public addresses on an allowed
port, or be on the crawler's allow-list, exactly as for HTTP. A single host is connected to
directly, so the server cannot point the driver at other "members"; with several, a member the
server announces beyond the checked ones is refused before anything is read.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from apps.core.http import FetchError, address_is_allowed
from apps.sources.credentials import userinfo_parts

Record = dict[str, Any]


def _host_checker(allowed_hosts: tuple[str, ...]):
    def srv_host_allowed(host: str) -> bool:
        try:
            address_is_allowed(host, 0, allowed_hosts=allowed_hosts)  # port 0: only host-wide entries
        except FetchError:
            return False
        return True

    return srv_host_allowed


def live_records(
    uri: str,
    database: str,
    collections: Iterable[str],
    *,
    timeout_ms: int,
    credentials: str = "",
    allowed_hosts: Iterable[str] = (),
    error: type[Exception],
) -> Iterator[tuple[str, Iterator[Record]]]:
    """Each collection's records from a live MongoDB, read through its cursor; ``error`` names the hosts, never
    the password. Each collection's iterator must be consumed before the next one is asked for."""
    from pymongo import MongoClient
    from pymongo.errors import InvalidURI, PyMongoError
    from pymongo.uri_parser import parse_uri

    allowed = tuple(allowed_hosts)
    try:
        # For mongodb+srv:// this reads the SRV (and TXT) records: the hosts below are the records' targets.
        parsed = parse_uri(uri, connect_timeout=timeout_ms / 1000)
    except (InvalidURI, ValueError):
        raise error("The warehouse URL is not a valid MongoDB URI.") from None
    except PyMongoError as exc:
        raise error(f"The warehouse's mongodb+srv records cannot be used: {exc}") from None
    nodes = [(str(host).lower(), int(port)) for host, port in parsed["nodelist"]]
    hosts = ", ".join(f"{host}:{port}" for host, port in nodes) or "the given host"
    for host, port in nodes:
        try:
            address_is_allowed(host, port, allowed_hosts=allowed)
        except FetchError as exc:
            raise error(f"The MongoDB warehouse was not contacted. {exc}") from None

    user, password = userinfo_parts(credentials)
    options: dict[str, Any] = {"username": user, "password": password} if credentials else {}
    if uri.startswith("mongodb+srv://"):
        options["srv_host_validator"] = _host_checker(allowed)  # also for hosts added when the driver re-polls
    elif len(nodes) == 1:
        options["directConnection"] = True
    client: MongoClient = MongoClient(
        uri,
        **options,  # credentials apart from the URI, which the driver may repeat in its errors
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
        uuidRepresentation="standard",
    )

    def unreadable(exc: PyMongoError) -> Exception:
        return error(f"Could not read the MongoDB warehouse at {hosts}: {type(exc).__name__}.")

    def read(collection: str) -> Iterator[Record]:
        try:
            yield from client[database][collection].find(batch_size=500)
        except PyMongoError as exc:
            raise unreadable(exc) from None

    try:
        try:
            client.admin.command("ping")
        except PyMongoError as exc:
            raise unreadable(exc) from None
        announced = {(str(h).lower(), int(p)) for h, p in client.topology_description.server_descriptions()}
        if extra := announced - set(nodes):
            others = ", ".join(f"{h}:{p}" for h, p in sorted(extra))
            raise error(f"The MongoDB server at {hosts} announced members that were not checked ({others}).")
        for collection in collections:
            yield collection, read(collection)
    finally:
        client.close()
