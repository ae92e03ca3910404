"""A real DNS server on 127.0.0.1 (UDP), answering from a small table: for the mongodb+srv attacks."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


@contextmanager
def dns_server(records: dict[tuple[str, str], list[str]]) -> Iterator[int]:
    """Serve ``{(name., type): [rdata, ...]}``; anything else is NXDOMAIN. Yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            for question in query.question:
                name, kind = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
                if answers := records.get((name, kind)):
                    response.answer.append(dns.rrset.from_text(name, 60, "IN", kind, *answers))
                else:
                    response.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
