"""Politeness: at least a fixed interval between two requests to one host, across threads."""

import threading
import time


class HostPacer:
    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}

    def wait_turn(self, host: str) -> None:
        """Block until this host may be sent another request."""
        if self._interval_s <= 0:
            return
        # Reserve the slot under the lock and sleep outside it, so threads waiting on one host queue up
        # in order without holding up requests to other hosts.
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self._interval_s
        if slot > now:
            time.sleep(slot - now)
