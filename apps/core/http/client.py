"""HttpClient: the one way crawlers fetch a URL, with the SSRF rules, limits and politeness built in."""

from collections.abc import Iterable
from contextlib import closing
from types import TracebackType
from urllib.parse import urljoin

import requests
from django.conf import settings
from urllib3.exceptions import NameResolutionError

from apps.core.http.addresses import AddressRefused, AllowedHosts, url_host_port
from apps.core.http.challenges import SNIFF_BYTES, is_bot_challenge
from apps.core.http.errors import (
    BlockedAddressError,
    BotChallengeError,
    FetchError,
    HttpStatusError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    TooManyRedirectsError,
)
from apps.core.http.pacing import HostPacer
from apps.core.http.result import FetchResult, encoding_from_content_type, sniff_encoding
from apps.core.http.robots import RobotsRules
from apps.core.http.transport import RequestDeadline, guarded_session

DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024


class HttpClient:
    """Fetches public http(s) URLs. Each response must arrive in full within timeout_s of its request."""

    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str] = (),
        user_agent: str,
        timeout_s: float,
        max_bytes: int,
        max_redirects: int,
        host_interval_s: float,
        respect_robots: bool,
    ) -> None:
        self._allowed = AllowedHosts.parse(allowed_hosts)
        self._session = guarded_session(self._allowed, user_agent)
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._pacer = HostPacer(host_interval_s)
        self._robots = (
            RobotsRules(self._fetch_robots_txt, user_agent, on_crawl_delay=self._pacer.raise_interval)
            if respect_robots
            else None
        )

    @classmethod
    def from_settings(cls) -> "HttpClient":
        return cls(
            allowed_hosts=settings.CRAWLER_ALLOWED_HOSTS,
            user_agent=settings.CRAWLER_USER_AGENT,
            timeout_s=float(settings.CRAWLER_TIMEOUT_S),
            max_bytes=settings.CRAWLER_MAX_BYTES,
            max_redirects=settings.CRAWLER_MAX_REDIRECTS,
            host_interval_s=float(settings.CRAWLER_HOST_INTERVAL_S),
            respect_robots=settings.CRAWLER_RESPECT_ROBOTS,
        )

    def get(self, url: str, *, accept: str | None = None, etag: str = "", last_modified: str = "") -> FetchResult:
        """The answer at url. Given the validators of a copy already held (``etag``, ``last_modified``),
        the request is conditional and an unchanged page answers ``status == 304`` with no content."""
        conditions = {"If-None-Match": etag, "If-Modified-Since": last_modified}
        headers = {name: value for name, value in conditions.items() if value}
        return self._follow(
            url, accept=accept or DEFAULT_ACCEPT, obey_robots=self._robots is not None, conditions=headers
        )

    def host_interval_s(self, url: str) -> float:
        """The pause this client keeps between two requests to url's host (a Crawl-delay may have raised it)."""
        return self._pacer.interval_for(self._checked_host(url))

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _fetch_robots_txt(self, robots_url: str) -> FetchResult:
        return self._follow(robots_url, accept="text/plain", obey_robots=False)

    def _follow(
        self, url: str, *, accept: str, obey_robots: bool, conditions: dict[str, str] | None = None
    ) -> FetchResult:
        # Redirects are followed here, not by requests, so every hop passes robots and pacing too
        # (the address rules are enforced on each connection by the transport).
        current = url
        for _hop in range(self._max_redirects + 1):
            host = self._checked_host(current)
            if obey_robots and self._robots is not None and not self._robots.allows(current):
                raise RobotsDisallowedError(current, f"The site's robots.txt does not allow fetching {current}.")
            self._pacer.wait_turn(host)
            with (
                RequestDeadline(self._timeout_s) as deadline,
                closing(self._send(current, accept, deadline, conditions or {})) as response,
            ):
                location = response.headers.get("location")
                if response.status_code in _REDIRECT_STATUSES and location:
                    current = urljoin(current, location)
                    continue
                return self._result(current, response, deadline)
        raise TooManyRedirectsError(url, f"{url} redirected more than {self._max_redirects} times.")

    def _checked_host(self, url: str) -> str:
        try:
            return url_host_port(url, self._allowed)[0]
        except AddressRefused as refused:
            raise BlockedAddressError(url, f"Refusing to fetch {url}: {refused.reason}.") from None

    def _send(self, url: str, accept: str, deadline: RequestDeadline, conditions: dict[str, str]) -> requests.Response:
        timeout = (self._timeout_s, self._timeout_s)
        try:
            return self._session.get(
                url, headers={"Accept": accept, **conditions}, stream=True, allow_redirects=False, timeout=timeout
            )
        except AddressRefused as refused:
            raise BlockedAddressError(url, f"Refusing to fetch {url}: {refused.reason}.") from None
        except requests.RequestException as exc:
            if isinstance(exc, requests.Timeout) or deadline.expired:
                raise FetchError(url, f"{url} did not answer within {self._timeout_s:g} s.") from exc
            raise FetchError(url, f"Cannot fetch {url}: {_connection_failure(exc)}.") from exc

    def _result(self, url: str, response: requests.Response, deadline: RequestDeadline) -> FetchResult:
        status = response.status_code
        headers = {name.lower(): value for name, value in response.headers.items()}
        if status == 304:  # the copy we hold is current: nothing to read
            return FetchResult(url=url, status=status, headers=headers, content=b"", encoding=None)
        succeeded = 200 <= status < 300
        # Error pages are only read far enough to recognise a bot challenge.
        content = self._read_body(url, response, deadline, whole=succeeded)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if is_bot_challenge(status=status, headers=headers, content_type=content_type, content=content):
            raise BotChallengeError(url, f"{url} answered with a bot check instead of the page.")
        if not succeeded:
            raise HttpStatusError(url, status)
        encoding = encoding_from_content_type(headers.get("content-type", "")) or sniff_encoding(content)
        return FetchResult(url=url, status=status, headers=headers, content=content, encoding=encoding)

    def _read_body(self, url: str, response: requests.Response, deadline: RequestDeadline, *, whole: bool) -> bytes:
        limit = self._max_bytes if whole else SNIFF_BYTES
        declared = response.headers.get("content-length", "")
        if whole and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(url, f"{url} is {int(declared)} bytes, over the {limit}-byte limit.")
        body = bytearray()
        try:
            # iter_content decompresses as it goes, so the cap counts decompressed bytes (gzip bombs).
            for chunk in response.iter_content(_CHUNK_BYTES):
                body += chunk
                if len(body) > limit and whole:
                    raise ResponseTooLargeError(url, f"{url} is larger than the {limit}-byte limit.")
                if len(body) > limit:
                    return bytes(body[:limit])
        except requests.RequestException as exc:
            if not deadline.expired:
                raise FetchError(url, f"Cannot fetch {url}: the connection broke while reading the answer.") from exc
        # A cut connection can also look like a body that simply ended, so the deadline is checked either way.
        if deadline.expired:
            raise FetchError(url, f"{url} took longer than {self._timeout_s:g} s to download.")
        return bytes(body)


def _connection_failure(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return "its TLS certificate could not be verified"
    if isinstance(getattr(exc.args[0] if exc.args else None, "reason", None), NameResolutionError):
        return "its host name does not resolve"
    return "the connection failed"
