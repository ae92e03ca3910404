"""A real TCP listener on 127.0.0.1 that records what connects to it: the target of SSRF attempts."""

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Listener:
    port: int
    connections: int = 0
    received: list[bytes] = field(default_factory=list)  # each message received (each recv), in order

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def tcp_listener(*, respond: Callable[[bytes], bytes | None] | None = None, hold_s: float = 0.0) -> Iterator[Listener]:
    """Accept connections and record what each sends. ``respond`` answers each message (None: hang up);
    without it the first message is recorded and the connection closed. ``hold_s`` keeps each connection
    open that long without answering: a frozen server.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    listener = Listener(port=server.getsockname()[1])
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5.0)
            try:
                while data := conn.recv(65536):
                    listener.received.append(data)
                    if hold_s:
                        stop.wait(hold_s)
                    answer = respond(data) if respond else None
                    if answer is None:
                        return
                    conn.sendall(answer)
            except OSError:
                pass

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            listener.connections += 1
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def mongo_command(message: bytes) -> dict:
    """The command document of a MongoDB OP_MSG (opcode 2013) or legacy OP_QUERY (2004) message."""
    import bson

    opcode = int.from_bytes(message[12:16], "little")
    if opcode == 2013:
        body = message[21:]  # header, flag bits, section kind 0
    else:
        name_end = message.index(b"\0", 20)
        body = message[name_end + 9 :]  # collection name, then the skip and return counts
    return bson.decode(body[: int.from_bytes(body[:4], "little")])


def mongo_hello_reply(message: bytes, **extra) -> bytes | None:
    """Answer a MongoDB handshake as a standalone server would (plus ``extra`` fields), so the driver goes
    on; hang up on anything else (authentication, queries)."""
    import bson

    command = mongo_command(message)
    if not ({"hello", "ismaster", "isMaster"} & set(command)):
        return None
    request_id = int.from_bytes(message[4:8], "little")
    document = bson.encode(
        {"ok": 1.0, "isWritablePrimary": True, "ismaster": True, "helloOk": True, "maxWireVersion": 21,
         "minWireVersion": 0, "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000,
         "saslSupportedMechs": ["SCRAM-SHA-256"], **extra}
    )  # fmt: skip
    if int.from_bytes(message[12:16], "little") == 2013:
        body = (0).to_bytes(4, "little") + b"\0" + document
        opcode = 2013
    else:  # OP_REPLY: flags, cursor id, starting from, number returned
        body = (0).to_bytes(4, "little") + (0).to_bytes(8, "little") + (0).to_bytes(4, "little")
        body += (1).to_bytes(4, "little") + document
        opcode = 1
    header = (16 + len(body)).to_bytes(4, "little") + (1).to_bytes(4, "little")
    return header + request_id.to_bytes(4, "little") + opcode.to_bytes(4, "little") + body
