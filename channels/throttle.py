"""Per-key request limits (per resident, per client address), shared by every gateway when Redis is set."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

throttle_log = logging.getLogger("zunyi.throttle")

WARN_EVERY_SECONDS = 60
# A turn must not wait on a sick Redis: give up quickly and let the resident through.
REDIS_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class ThrottleDecision:
    """Whether one more request is let through; if not, whole seconds until the window frees a slot
    (what a 429's Retry-After header wants)."""

    allowed: bool
    retry_after: int = 0


class Throttle:
    """Moving windows of hits per key of one kind (``name``): ``limit`` hits a minute, or several
    windows at once (``20/minute;500/day``).

    With ``redis_url`` every gateway replica counts in the same Redis keys, under ``prefix``; without
    it the count lives in this process, which is the whole count in the embedded single-gateway
    setting (production refuses to start without Redis: core.settings.shared_state_problems). The
    services database would serve too, but SQLite takes its one writer lock for every transaction,
    and a write on every chat turn would queue bookings behind it. limits' memory storage drops a
    key's entries once they are older than the window, so it does not grow with every client seen.

    If Redis cannot be reached the request is allowed (fail open) and a warning is logged at most
    once a minute: a resident asking about a service should not be refused because the limiter's
    store is down, and a burst during an outage costs Rasa some work, not correctness.
    """

    def __init__(
        self, name: str, limit: int | str, redis_url: str | None, prefix: str = "zunyi:throttle"
    ) -> None:
        """``limit``: hits a minute, or windows in the limits library's notation (``20/minute;500/day``)."""
        if not name or "/" in name:
            raise ValueError(f"throttle name must be non-empty and without '/': {name!r}")
        items: list[RateLimitItem] = (
            [RateLimitItemPerMinute(limit)] if isinstance(limit, int) else parse_many(limit)
        )
        if any(item.amount < 1 for item in items):
            raise ValueError(f"throttle {name!r}: each window must allow at least 1 hit, got {limit!r}")
        self.name = name
        self._items = items
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
        """Count one hit for ``key`` in every window that has room; refused when one has none, with
        how long until that window frees a slot."""
        try:
            for item in self._items:
                if not await self._limiter.hit(item, self.name, key):
                    stats = await self._limiter.get_window_stats(item, self.name, key)
                    wait = math.ceil(stats.reset_time - time.time())
                    return ThrottleDecision(allowed=False, retry_after=min(max(wait, 1), item.get_expiry()))
        except StorageError as error:
            self._warn_unavailable(error)
        return ThrottleDecision(allowed=True)

    async def allow(self, key: str) -> bool:
        """True when one more request from ``key`` is let through (and counted)."""
        return (await self.check(key)).allowed

    def _warn_unavailable(self, error: StorageError) -> None:
        now = time.monotonic()
        if self._last_warning is None or now - self._last_warning >= WARN_EVERY_SECONDS:
            self._last_warning = now
            throttle_log.warning(
                "throttle %r: Redis unavailable, letting requests through: %s", self.name, error
            )


class SenderThrottle(Throttle):
    """At most ``per_minute`` turns a minute per resident (sender id), across all gateways."""

    def __init__(self, per_minute: int, redis_url: str | None, prefix: str = "zunyi:throttle") -> None:
        super().__init__("sender", per_minute, redis_url, prefix)
