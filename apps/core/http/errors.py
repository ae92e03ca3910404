"""Why a URL could not be fetched. Every message is one sentence that names the URL."""

from lib.errors import TwinsiteError


class FetchError(TwinsiteError):
    """A URL could not be fetched (unreachable, too slow, refused, or an unusable answer)."""

    def __init__(self, url: str, message: str) -> None:
        # args mirror the constructor so the error survives pickling and Celery's JSON result backend.
        super().__init__(url, message)
        self.url = url
        self.message = message

    def __str__(self) -> str:
        return self.message


class BlockedAddressError(FetchError):
    """The URL is not plain http(s), uses a refused port, or its host resolves to a non-public address."""


class RobotsDisallowedError(FetchError):
    """The site's robots.txt does not let this crawler fetch the URL."""


class ResponseTooLargeError(FetchError):
    """The body (after decompression) is over the client's byte limit."""


class BotChallengeError(FetchError):
    """The site answered with a bot-check interstitial instead of the page: a failure, never content."""


class TooManyRedirectsError(FetchError):
    """The URL redirected more times than the client follows."""


class HttpStatusError(FetchError):
    """The final answer was not a 2xx status."""

    def __init__(self, url: str, status: int) -> None:
        self.status = status
        # 404 and 410 mean the document was removed upstream, which the crawl service records differently.
        self.gone = status in (404, 410)
        detail = " (the page is gone)" if self.gone else ""
        super().__init__(url, f"{url} answered HTTP {status}{detail}.")
        self.args = (url, status)
