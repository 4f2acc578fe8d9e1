"""Per-key turn limits (per resident, later per client IP), shared by every gateway when Redis is set."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

throttle_log = logging.getLogger("zunyi.throttle")

WINDOW_SECONDS = 60
# A turn must not wait on a sick Redis: give up quickly and let the resident through.
REDIS_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class ThrottleDecision:
    """Whether one more message is let through; if not, whole seconds until the window frees a slot
    (what a 429's Retry-After header wants)."""

    allowed: bool
    retry_after: int = 0


class Throttle:
    """A moving one-minute window of at most ``per_minute`` hits per key of one kind (``name``).

    With ``redis_url`` every gateway replica counts in the same Redis keys, under ``prefix``; without
    it the count lives in this process (limits' memory storage drops a key's entries once they are
    older than the window, so it does not grow with every sender ever seen).

    If Redis cannot be reached the message is allowed (fail open) and a warning is logged at most
    once a minute: a resident asking about a service should not be refused because the limiter's
    store is down, and a burst during an outage costs Rasa some work, not correctness.
    """

    def __init__(
        self, name: str, per_minute: int, redis_url: str | None, prefix: str = "zunyi:throttle"
    ) -> None:
        if not name or "/" in name:
            raise ValueError(f"throttle name must be non-empty and without '/': {name!r}")
        if per_minute < 1:
            raise ValueError(f"throttle {name!r}: per_minute must be at least 1, got {per_minute}")
        self.name = name
        self._item = RateLimitItemPerMinute(per_minute)
        if redis_url is None:
            storage = storage_from_string("async+memory://")
        else:
            storage = storage_from_string(
                f"async+{redis_url}",
                implementation="redispy",
                key_prefix=prefix,
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        self._limiter = MovingWindowRateLimiter(storage)
        self._last_warning: float | None = None

    async def check(self, key: str) -> ThrottleDecision:
        """Count one hit for ``key`` if the window has room; otherwise say how long to wait."""
        try:
            if await self._limiter.hit(self._item, self.name, key):
                return ThrottleDecision(allowed=True)
            stats = await self._limiter.get_window_stats(self._item, self.name, key)
        except StorageError as error:
            self._warn_unavailable(error)
            return ThrottleDecision(allowed=True)
        wait = math.ceil(stats.reset_time - time.time())
        return ThrottleDecision(allowed=False, retry_after=min(max(wait, 1), WINDOW_SECONDS))

    async def allow(self, key: str) -> bool:
        """True when one more message from ``key`` is let through (and counted)."""
        return (await self.check(key)).allowed

    def _warn_unavailable(self, error: StorageError) -> None:
        now = time.monotonic()
        if self._last_warning is None or now - self._last_warning >= WINDOW_SECONDS:
            self._last_warning = now
            throttle_log.warning(
                "throttle %r: Redis unavailable, letting messages through: %s", self.name, error
            )


class SenderThrottle(Throttle):
    """At most ``per_minute`` turns a minute per resident (sender id), across all gateways."""

    def __init__(self, per_minute: int, redis_url: str | None, prefix: str = "zunyi:throttle") -> None:
        super().__init__("sender", per_minute, redis_url, prefix)
