"""Politeness: at least a fixed interval between two requests to one host, across threads.

A host's robots.txt may ask for a longer pause (``Crawl-delay``); ``raise_interval`` applies it to that
host only, never below the configured interval, and capped so one line of a robots.txt cannot stall
a crawl for hours.
"""

import threading
import time


class HostPacer:
    def __init__(self, interval_s: float, *, max_interval_s: float = 60.0) -> None:
        self._interval_s = interval_s
        self._max_interval_s = max(max_interval_s, interval_s)
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}
        self._host_interval_s: dict[str, float] = {}

    def interval_for(self, host: str) -> float:
        with self._lock:
            return self._host_interval_s.get(host, self._interval_s)

    def raise_interval(self, host: str, interval_s: float) -> None:
        """Pause at least interval_s between requests to host (a robots.txt Crawl-delay); never lowers it."""
        with self._lock:
            current = self._host_interval_s.get(host, self._interval_s)
            self._host_interval_s[host] = max(current, min(interval_s, self._max_interval_s))

    def wait_turn(self, host: str) -> None:
        """Block until this host may be sent another request."""
        # Reserve the slot under the lock and sleep outside it, so threads waiting on one host queue up
        # in order without holding up requests to other hosts.
        with self._lock:
            interval = self._host_interval_s.get(host, self._interval_s)
            if interval <= 0:
                return
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + interval
        if slot > now:
            time.sleep(slot - now)
