"""``python -m channels.wechat resend`` against the fake WeChat API: failures recorded by the
gateway's delivery (file log without Redis, the shared Redis list with it) are sent once more."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # wechat_fake, whatever pytest's import mode

from wechat_fake import (
    APP_ID,
    APP_SECRET,
    FakeWeChatAPI,
    redis_or_skip,
    redis_prefix,
    serve,
)

from channels.wechat import __main__ as command
from channels.wechat.delivery import (
    DeliveryFailure,
    FileFailureLog,
    StoreFailureLog,
    failure_log,
)
from channels.wechat.store import MemoryStore, RedisStore
from core.settings import get_settings

pytestmark = pytest.mark.e2e


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeWeChatAPI, str]]:
    api = FakeWeChatAPI()
    with serve(api.app()) as url:
        yield api, url


def configure(
    monkeypatch: pytest.MonkeyPatch, url: str, tmp_path: Path, redis_url: str = "", prefix: str = ""
) -> None:
    for name, value in {
        "ZY_WECHAT__API_BASE_URL": url,
        "ZY_WECHAT__APP_ID": APP_ID,
        "ZY_WECHAT__APP_SECRET": APP_SECRET,
        "ZY_WECHAT__REDIS_URL": redis_url,
        "ZY_WECHAT__REDIS_PREFIX": prefix or "zunyi:wechat:",
        "ZY_WECHAT__FAILED_SENDS_FILE": str(tmp_path / "failed-sends.jsonl"),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    yield
    get_settings.cache_clear()


def failure(openid: str, text: str) -> DeliveryFailure:
    return DeliveryFailure(openid=openid, text=text, error="system error", at=time.time())


def test_file_log_keeps_order_and_take_empties_it(tmp_path: Path) -> None:
    log = FileFailureLog(tmp_path / "nested" / "failed.jsonl")

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        for n in range(3):
            await log.record(failure("oA", f"第{n}段"))
        seen = [f.text for f in await log.entries()]
        taken = [f.text for f in await log.take()]
        return seen, taken, [f.text for f in await log.entries()]

    assert asyncio.run(scenario()) == (["第0段", "第1段", "第2段"], ["第0段", "第1段", "第2段"], [])


def test_resend_sends_recorded_failures_and_keeps_those_failing_again(
    fake_api: tuple[FakeWeChatAPI, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api, url = fake_api
    configure(monkeypatch, url, tmp_path)
    log = failure_log(get_settings().wechat, MemoryStore())  # no Redis: the file, which outlives the gateway
    assert isinstance(log, FileFailureLog)
    for openid, text in [("oLostA", "第一段"), ("oLostB", "答复"), ("oLostA", "第二段")]:
        asyncio.run(log.record(failure(openid, text)))

    api.fail_sends = 1  # WeChat still refuses the first one
    assert command.main(["resend"]) == 1
    assert "成功 2 条，仍失败 1 条" in capsys.readouterr().out
    assert api.texts_to("oLostA") == ["第二段"] and api.texts_to("oLostB") == ["答复"]
    [left] = asyncio.run(log.entries())
    assert (left.openid, left.text) == ("oLostA", "第一段") and "system error" in left.error

    assert command.main(["resend"]) == 0
    assert "成功 1 条，仍失败 0 条" in capsys.readouterr().out
    assert api.texts_to("oLostA") == ["第二段", "第一段"]
    assert asyncio.run(log.entries()) == []
    assert command.main(["resend"]) == 0
    assert "成功 0 条，仍失败 0 条" in capsys.readouterr().out
    assert len(api.token_fetches) <= 3  # one per command run, never one per send


def test_resend_reads_the_shared_redis_list(
    fake_api: tuple[FakeWeChatAPI, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api, url = fake_api
    redis_url = redis_or_skip()
    with redis_prefix() as prefix:
        configure(monkeypatch, url, tmp_path, redis_url, prefix)

        async def record() -> None:
            store = RedisStore(redis_url, prefix)
            await StoreFailureLog(store).record(failure("oRedisLost", "迟到的答复"))
            await store.close()

        asyncio.run(record())
        assert command.main(["resend"]) == 0
        assert "成功 1 条" in capsys.readouterr().out

        async def left() -> list[DeliveryFailure]:
            store = RedisStore(redis_url, prefix)
            try:
                return await StoreFailureLog(store).entries()
            finally:
                await store.close()

        assert asyncio.run(left()) == []
    assert api.texts_to("oRedisLost") == ["迟到的答复"]
    assert not (tmp_path / "failed-sends.jsonl").exists()
