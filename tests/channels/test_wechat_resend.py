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
    LONG_WITH_OPTIONS,
    CannedTurns,
    FakeWeChatAPI,
    Resident,
    make_settings,
    redis_or_skip,
    redis_prefix,
    run_gateway,
    serve,
)

from channels.wechat import __main__ as command
from channels.wechat.delivery import (
    DeliveryFailure,
    FileFailureLog,
    StoreFailureLog,
    failure_log,
)
from channels.wechat.runtime import WeChatRuntime
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
    assert "成功 1 条，仍失败 2 条" in capsys.readouterr().out
    # oLostA's second part waits for its first: sent alone it would land above it.
    assert api.texts_to("oLostA") == [] and api.texts_to("oLostB") == ["答复"]
    left = asyncio.run(log.entries())
    assert [(f.openid, f.text) for f in left] == [("oLostA", "第一段"), ("oLostA", "第二段")]
    assert all("system error" in f.error for f in left)

    assert command.main(["resend"]) == 0
    assert "成功 2 条，仍失败 0 条" in capsys.readouterr().out
    assert api.texts_to("oLostA") == ["第一段", "第二段"]
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


def test_a_part_that_fails_holds_back_the_rest_until_resent(
    fake_api: tuple[FakeWeChatAPI, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """WeChat refuses the head of a split answer: the tail is not sent ahead of it; the resend
    command later delivers the whole answer in order."""
    api, url = fake_api
    api.fail_sends = 2
    settings = make_settings(tmp_path, url, send_attempts=2, reply_max_bytes=1000)
    with run_gateway(settings, CannedTurns()) as gateway:
        someone = Resident(gateway.url, "oHeadLost")
        assert someone.ask(LONG_WITH_OPTIONS) is None
        runtime: WeChatRuntime = gateway.app.state.wechat
        failed = recorded_failures(runtime)
    assert api.sends == []
    assert len(failed) >= 2 and {f.openid for f in failed} == {"oHeadLost"}
    assert "system error" in failed[0].error and all("未发送" in f.error for f in failed[1:])

    configure(monkeypatch, url, tmp_path)
    assert command.main(["resend"]) == 0
    assert f"成功 {len(failed)} 条，仍失败 0 条" in capsys.readouterr().out
    parts = api.texts_to("oHeadLost")
    assert parts == [f.text for f in failed]
    assert parts[0].startswith("1. 第1项材料") and parts[-1].endswith("回复 3 我符合条件吗")


def recorded_failures(runtime: WeChatRuntime, quiet: float = 0.5) -> list[DeliveryFailure]:
    """The gateway's failure log once nothing was added to it for ``quiet`` seconds."""
    deadline = time.monotonic() + 10
    failures: list[DeliveryFailure] = []
    since = time.monotonic()
    while time.monotonic() < deadline:
        now = asyncio.run(runtime.delivery.failures())
        if len(now) != len(failures):
            failures, since = now, time.monotonic()
        elif failures and time.monotonic() - since >= quiet:
            break
        time.sleep(0.05)
    return failures
