"""robots.txt, fetched once per scheme+host+port for a client's lifetime and applied to every URL."""

import logging
import threading
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from apps.core.http.errors import BlockedAddressError, FetchError, HttpStatusError
from apps.core.http.result import FetchResult

logger = logging.getLogger(__name__)

RobotsFetcher = Callable[[str], FetchResult]  # raises FetchError like HttpClient.get


class RobotsRules:
    def __init__(self, fetch: RobotsFetcher, user_agent: str) -> None:
        self._fetch = fetch
        self._user_agent = user_agent
        self._lock = threading.Lock()
        self._parsers: dict[tuple[str, str], RobotFileParser] = {}

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = (parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower())  # netloc keeps the port
        with self._lock:
            parser = self._parsers.get(origin)
        if parser is None:
            # Two threads may both fetch a new host's robots.txt; same answer, so no need to serialise.
            parser = self._load(urlunsplit((*origin, "/robots.txt", "", "")))
            with self._lock:
                self._parsers[origin] = parser
        return parser.can_fetch(self._user_agent, url)

    def _load(self, robots_url: str) -> RobotFileParser:
        parser = RobotFileParser(robots_url)
        try:
            robots = self._fetch(robots_url)
        except HttpStatusError as exc:
            # RFC 9309: 4xx means no rules; 5xx means allow but note it. The product decision is
            # that 401/403 (the site refuses us robots.txt) disallows everything.
            if exc.status in (401, 403):
                parser.disallow_all = True
            else:
                parser.allow_all = True
                if exc.status >= 500:
                    logger.warning("robots.txt unavailable, crawling as allowed: %s", exc)
            return parser
        except BlockedAddressError:
            # The page fetch that asked will be refused on its own, with its own URL in the message.
            parser.allow_all = True
            return parser
        except FetchError as exc:
            logger.warning("robots.txt could not be fetched, crawling as allowed: %s", exc)
            parser.allow_all = True
            return parser
        parser.parse(robots.text.splitlines())
        return parser
