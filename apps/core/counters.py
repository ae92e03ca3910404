"""Fixed-window counters in Redis, atomic across every web process: the API's throttles count here.

One Lua script increments the key and sets its expiry when the window opens, so 80 requests at once
count 80, whichever processes serve them. When Redis does not answer within a second, the
hit is not counted (None) and Redis is left alone for a while, with one log line: callers let the
request through rather than fail it, and a frozen broker costs each request nothing.
"""

import logging
import threading
import time

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from lib.redaction import url_redact

logger = logging.getLogger(__name__)

TIMEOUT_S = 1.0  # a healthy Redis answers in a millisecond; a busy host can take far longer, and a pause follows
PAUSE_S = 10.0  # after a failure, how long counting is skipped before Redis is tried again
_HIT = """
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if hits == 1 or ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {hits, ttl}
"""

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}
_paused_until = 0.0


def _client(url: str) -> redis.Redis:
    with _lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(
                url,
                socket_timeout=TIMEOUT_S,
                socket_connect_timeout=TIMEOUT_S,
                retry=Retry(NoBackoff(), 0),  # redis-py retries 3 times by default: 4x the wait on a frozen server
            )
        return _clients[url]


def window_hit(key: str, *, window_s: float) -> tuple[int, float] | None:
    """Count a hit on ``key``: (hits in the current window, seconds until it closes), or None if Redis is out."""
    global _paused_until
    if time.monotonic() < _paused_until:
        return None
    url = settings.REDIS_URL
    try:
        hits, ttl_ms = _client(url).eval(_HIT, 1, key, max(1, int(window_s * 1000)))
    except redis.RedisError as exc:
        _paused_until = time.monotonic() + PAUSE_S
        logger.warning(
            "Rate limits are not enforced for %.0f s: Redis at %s did not answer (%s).",
            PAUSE_S,
            url_redact(url),
            type(exc).__name__,
        )
        return None
    return int(hits), int(ttl_ms) / 1000


def counters_reset() -> None:
    """Forget a pause after a failure (tests, and an operator who has just fixed Redis)."""
    global _paused_until
    _paused_until = 0.0
