"""Turn limits: per key, shared by gateway replicas through Redis, open when Redis is down."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).parent))  # wechat_fake, whatever pytest's import mode

from wechat_fake import redis_or_skip, redis_prefix

from channels.throttle import SenderThrottle, Throttle

MakeThrottle = Callable[[int], SenderThrottle]


@pytest.fixture
def shared_redis() -> Iterator[tuple[str, str]]:
    """The test Redis URL and a key prefix of this test only."""
    url = redis_or_skip()
    with redis_prefix() as prefix:
        yield url, prefix.rstrip(":")


@pytest.fixture(params=["memory", "redis"])
def make_throttle(request: pytest.FixtureRequest) -> Iterator[MakeThrottle]:
    """Build SenderThrottles on process memory or on the shared test Redis."""
    if request.param == "memory":
        yield lambda per_minute: SenderThrottle(per_minute, None)
        return
    url = redis_or_skip()
    with redis_prefix() as prefix:
        yield lambda per_minute: SenderThrottle(per_minute, url, prefix.rstrip(":"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Wall clock that only moves when a test moves it (limits stamps entries with time.time).

    It starts on a whole second because the Redis scripts keep timestamps to 14 digits, which
    would turn an exact 40 s wait into 40.0001 s and a Retry-After of 41."""
    now = [float(int(time.time()))]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


async def test_allows_per_minute_then_refuses_only_that_sender(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(3)
    assert [await throttle.allow("oAlice") for _ in range(4)] == [True, True, True, False]
    assert await throttle.allow("oBob")
    assert not await throttle.allow("oAlice")


async def test_retry_after_is_when_the_oldest_message_leaves_the_window(
    make_throttle: MakeThrottle, clock: list[float]
) -> None:
    throttle = make_throttle(2)
    assert (await throttle.check("oAlice")).allowed
    clock[0] += 20
    assert (await throttle.check("oAlice")).allowed
    refused = await throttle.check("oAlice")
    assert not refused.allowed
    assert refused.retry_after == 40
    clock[0] += 41
    assert (await throttle.check("oAlice")).allowed


async def test_replicas_share_one_count(shared_redis: tuple[str, str]) -> None:
    url, prefix = shared_redis
    replica_a = SenderThrottle(5, url, prefix)
    replica_b = SenderThrottle(5, url, prefix)
    assert [await replica_a.allow("oAlice") for _ in range(3)] == [True] * 3
    assert [await replica_b.allow("oAlice") for _ in range(2)] == [True] * 2
    assert not await replica_a.allow("oAlice")
    assert not await replica_b.allow("oAlice")
    client = redis.Redis.from_url(url)
    try:
        assert list(client.scan_iter(match=f"{prefix}:*"))
    finally:
        client.close()


async def test_key_kinds_do_not_share_a_count(shared_redis: tuple[str, str]) -> None:
    url, prefix = shared_redis
    senders = SenderThrottle(1, url, prefix)
    addresses = Throttle("ip", 1, url, prefix)
    assert await senders.allow("10.0.0.7")
    assert await addresses.allow("10.0.0.7")
    assert not await addresses.allow("10.0.0.7")


async def test_redis_down_lets_messages_through_quickly_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    throttle = SenderThrottle(1, f"redis://127.0.0.1:{closed_port}/0")
    with caplog.at_level(logging.WARNING, logger="zunyi.throttle"):
        for _ in range(3):
            started = time.perf_counter()
            decision = await throttle.check("oAlice")
            assert decision.allowed
            assert time.perf_counter() - started < 1
    assert len([r for r in caplog.records if r.name == "zunyi.throttle"]) == 1


async def test_memory_forgets_senders_once_their_window_has_passed(clock: list[float]) -> None:
    throttle = SenderThrottle(1, None)
    for n in range(100):
        assert await throttle.allow(f"oSender{n}")
    clock[0] += 61
    # limits' own bookkeeping: the keys whose moving-window entries it still holds.
    events = throttle._limiter.storage.events  # type: ignore[attr-defined]
    for _ in range(100):
        await throttle.check("oLate")  # each hit schedules limits' sweep of expired entries
        if len(events) == 1:
            break
        await asyncio.sleep(0.01)
    assert len(events) == 1
    assert "oLate" in next(iter(events))


def test_rejects_nonsense_limits() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SenderThrottle(0, None)
    with pytest.raises(ValueError, match="at least 1"):
        Throttle("ip", "0/minute", None)
    with pytest.raises(ValueError):
        Throttle("ip", "lots", None)
    with pytest.raises(ValueError, match="name"):
        Throttle("", 5, None)
