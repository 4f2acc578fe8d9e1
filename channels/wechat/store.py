"""Short-lived shared state of the WeChat channel: dedupe records, offered options, failed sends.

Redis when ``ZY_WECHAT__REDIS_URL`` is set, so that several gateway processes see one another's
claims; otherwise a dict in this process, which is enough for a single gateway.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class Store(Protocol):
    async def claim(self, key: str, value: str, ttl: float) -> bool:
        """Set ``key`` only when it is absent; True for the one caller that set it."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, ttl: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def append(self, key: str, value: str, keep: int) -> None:
        """Add to a list that keeps only its newest ``keep`` entries."""

    async def entries(self, key: str) -> list[str]: ...

    async def take(self, key: str) -> list[str]:
        """Remove a list and return its entries, atomically."""

    async def close(self) -> None: ...


class MemoryStore:
    def __init__(self, sweep_every_seconds: float = 60.0) -> None:
        self._values: dict[str, tuple[str, float]] = {}
        self._lists: dict[str, list[str]] = {}
        self._sweep_every = sweep_every_seconds
        self._next_sweep = time.monotonic() + sweep_every_seconds

    def _live(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None:
            return None
        if item[1] <= time.monotonic():
            del self._values[key]
            return None
        return item[0]

    async def claim(self, key: str, value: str, ttl: float) -> bool:
        # No await between the check and the write: atomic within the event loop.
        if self._live(key) is not None:
            return False
        self._values[key] = (value, time.monotonic() + ttl)
        self._sweep()
        return True

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def put(self, key: str, value: str, ttl: float) -> None:
        self._values[key] = (value, time.monotonic() + ttl)

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def append(self, key: str, value: str, keep: int) -> None:
        entries = self._lists.setdefault(key, [])
        entries.append(value)
        del entries[:-keep]

    async def entries(self, key: str) -> list[str]:
        return list(self._lists.get(key, []))

    async def take(self, key: str) -> list[str]:
        return self._lists.pop(key, [])

    async def close(self) -> None:
        self._values.clear()

    def _sweep(self) -> None:
        """Drop expired keys now and then, so a long-running gateway does not grow without bound."""
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self._sweep_every
        for key in [k for k, (_, expires) in self._values.items() if expires <= now]:
            del self._values[key]


class RedisStore:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis: Redis = Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    async def claim(self, key: str, value: str, ttl: float) -> bool:
        return bool(await self._redis.set(self._prefix + key, value, nx=True, px=int(ttl * 1000)))

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    async def put(self, key: str, value: str, ttl: float) -> None:
        await self._redis.set(self._prefix + key, value, px=int(ttl * 1000))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def append(self, key: str, value: str, keep: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(self._prefix + key, value)
            pipe.ltrim(self._prefix + key, -keep, -1)
            await pipe.execute()

    async def entries(self, key: str) -> list[str]:
        return [str(v) for v in await self._redis.lrange(self._prefix + key, 0, -1)]

    async def take(self, key: str) -> list[str]:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(self._prefix + key, 0, -1)
            pipe.delete(self._prefix + key)
            values, _ = await pipe.execute()
        return [str(v) for v in values]

    async def close(self) -> None:
        await self._redis.aclose()


def make_store(redis_url: str | None, prefix: str) -> Store:
    return RedisStore(redis_url, prefix) if redis_url else MemoryStore()
