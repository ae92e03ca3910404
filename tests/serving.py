"""One way for tests to serve an HTTP handler of their own: a thread on a free port of 127.0.0.1."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from typing import Any


@contextmanager
def serving(handler: Any, *, daemon_threads: bool = True) -> Iterator[str]:
    """Serve handler for the duration of the block; yields the base URL, http://127.0.0.1:<port>.

    daemon_threads=False makes closing wait for requests still being answered (one generating with torch at
    interpreter exit would abort it); True keeps a hung client from holding the test run.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = daemon_threads
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
