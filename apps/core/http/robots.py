"""robots.txt, fetched once per scheme+host+port for a client's lifetime and applied to every URL.

Parsed by protego, which follows RFC 9309: the longest matching rule wins (Allow on a tie), and
``*`` and ``$`` are wildcards. The standard library's parser applies the first matching rule and
reads wildcards literally.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from apps.core.http.errors import BlockedAddressError, FetchError, HttpStatusError
from apps.core.http.result import FetchResult

logger = logging.getLogger(__name__)

RobotsFetcher = Callable[[str], FetchResult]  # raises FetchError like HttpClient.get


@dataclass(frozen=True)
class HostRules:
    """What one host's robots.txt says to this crawler."""

    parser: Protego | None = None  # None: allow or refuse everything, as ``allow_all`` says
    allow_all: bool = True

    def allows(self, url: str, user_agent: str) -> bool:
        return self.parser.can_fetch(url, user_agent) if self.parser is not None else self.allow_all

    def crawl_delay(self, user_agent: str) -> float:
        delay = self.parser.crawl_delay(user_agent) if self.parser is not None else None
        return float(delay) if delay and delay > 0 else 0.0


class RobotsRules:
    def __init__(self, fetch: RobotsFetcher, user_agent: str, *, on_crawl_delay: Callable[[str, float], None]) -> None:
        self._fetch = fetch
        self._user_agent = user_agent
        self._on_crawl_delay = on_crawl_delay  # (host, seconds): called once per host that asks for one
        self._lock = threading.Lock()
        self._hosts: dict[tuple[str, str], HostRules] = {}

    def allows(self, url: str) -> bool:
        return self.rules_for(url).allows(url, self._user_agent)

    def rules_for(self, url: str) -> HostRules:
        parts = urlsplit(url)
        origin = (parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower())  # netloc keeps the port
        with self._lock:
            rules = self._hosts.get(origin)
        if rules is None:
            # Two threads may both fetch a new host's robots.txt; same answer, so no need to serialise.
            rules = self._load(urlunsplit((*origin, "/robots.txt", "", "")))
            with self._lock:
                self._hosts[origin] = rules
            delay = rules.crawl_delay(self._user_agent)
            if delay:
                self._on_crawl_delay((parts.hostname or "").lower(), delay)
        return rules

    def _load(self, robots_url: str) -> HostRules:
        try:
            robots = self._fetch(robots_url)
        except HttpStatusError as exc:
            # RFC 9309: 4xx means no rules; 5xx means allow but note it. The product decision is
            # that 401/403 (the site refuses us robots.txt) disallows everything.
            if exc.status in (401, 403):
                return HostRules(allow_all=False)
            if exc.status >= 500:
                logger.warning("robots.txt unavailable, crawling as allowed: %s", exc)
            return HostRules()
        except BlockedAddressError:
            # The page fetch that asked will be refused on its own, with its own URL in the message.
            return HostRules()
        except FetchError as exc:
            logger.warning("robots.txt could not be fetched, crawling as allowed: %s", exc)
            return HostRules()
        return HostRules(parser=Protego.parse(robots.text))
