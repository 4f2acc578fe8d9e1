"""Customer-service delivery, the shared access_token, Redis across gateways, floods, the menu."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

sys.path.insert(0, str(Path(__file__).parent))  # wechat_fake, whatever pytest's import mode

from wechat_fake import (
    SLOTS,
    SLOW,
    WITH_BUTTONS,
    CannedTurns,
    FakeWeChatAPI,
    Gateway,
    Resident,
    make_settings,
    redis_or_skip,
    redis_prefix,
    run_gateway,
    serve,
)

from channels.wechat import __main__ as command
from channels.wechat.client import GatewayWeChatClient
from channels.wechat.delivery import DeliveryFailure
from channels.wechat.menu import MENU
from channels.wechat.runtime import WeChatRuntime
from core.settings import get_settings

pytestmark = pytest.mark.e2e


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeWeChatAPI, str]]:
    api = FakeWeChatAPI()
    with serve(api.app()) as url:
        yield api, url


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_token_is_fetched_once_for_many_sends(fake_api: tuple[FakeWeChatAPI, str], tmp_path: Path) -> None:
    api, url = fake_api
    with run_gateway(make_settings(tmp_path, url), CannedTurns(slow_seconds=1.2)) as gateway:
        residents = [Resident(gateway.url, f"oToken{n}") for n in range(6)]

        async def all_slow() -> None:
            async with httpx.AsyncClient() as client:
                await asyncio.gather(*(r.apost(client, r.text_xml(SLOW)) for r in residents))

        asyncio.run(all_slow())
        wait_for(lambda: len(api.sends) >= 6)
    assert len(api.sends) == 6
    assert len(api.token_fetches) == 1
    assert {send["access_token"] for send in api.sends} == {"TOKEN-1"}


def test_failed_send_is_retried(fake_api: tuple[FakeWeChatAPI, str], tmp_path: Path) -> None:
    api, url = fake_api
    api.fail_sends = 2
    with run_gateway(make_settings(tmp_path, url, send_attempts=3), CannedTurns(slow_seconds=1.2)) as gateway:
        someone = Resident(gateway.url, "oRetry")
        assert someone.ask(SLOW) is None
        wait_for(lambda: api.sends)
    assert api.texts_to("oRetry") == [f"慢答：{SLOW}"]


def test_expired_token_is_replaced_and_the_send_retried(
    fake_api: tuple[FakeWeChatAPI, str], tmp_path: Path
) -> None:
    api, url = fake_api
    api.expired_tokens.add("TOKEN-1")
    with run_gateway(make_settings(tmp_path, url), CannedTurns(slow_seconds=1.2)) as gateway:
        assert Resident(gateway.url, "oExpired").ask(SLOW) is None
        wait_for(lambda: api.sends)
    assert [s["access_token"] for s in api.sends] == ["TOKEN-2"]
    assert api.texts_to("oExpired") == [f"慢答：{SLOW}"]


def test_undeliverable_answer_is_recorded(fake_api: tuple[FakeWeChatAPI, str], tmp_path: Path) -> None:
    api, url = fake_api
    api.fail_sends = 100
    with run_gateway(make_settings(tmp_path, url, send_attempts=2), CannedTurns(slow_seconds=1.2)) as gateway:
        someone = Resident(gateway.url, "oLost")
        assert someone.ask(SLOW) is None
        runtime: WeChatRuntime = gateway.app.state.wechat
        failures: list[DeliveryFailure] = []
        deadline = time.monotonic() + 10
        while not failures and time.monotonic() < deadline:
            time.sleep(0.1)
            failures = asyncio.run(runtime.delivery.failures())
    assert api.sends == []
    assert [(f.openid, f.text) for f in failures] == [("oLost", f"慢答：{SLOW}")]
    assert "system error" in failures[0].error


def test_flood_from_one_sender_gets_a_polite_reply(
    fake_api: tuple[FakeWeChatAPI, str], tmp_path: Path
) -> None:
    """The real TurnHandler (Rasa unreachable here): its per-sender limit and busy fallback."""
    settings = make_settings(tmp_path, fake_api[1], gateway={"turns_per_minute": 3})
    with run_gateway(settings, turns=None) as gateway:
        someone = Resident(gateway.url, "oFlood")
        replies = [someone.ask(f"第{n}个问题") for n in range(5)]
        other = Resident(gateway.url, "oCalm").ask("你好")
    assert all(reply is not None and "系统繁忙" in reply for reply in replies[:3])
    assert all(reply is not None and "太快" in reply for reply in replies[3:])
    assert other is not None and "系统繁忙" in other


def test_empty_text_gets_a_prompt(fake_api: tuple[FakeWeChatAPI, str], tmp_path: Path) -> None:
    with run_gateway(make_settings(tmp_path, fake_api[1]), turns=None) as gateway:
        reply = Resident(gateway.url, "oEmpty").ask("   ")
    assert reply is not None and "请输入" in reply


# --- Redis: several gateway processes ---------------------------------------------------------


@pytest.fixture
def shared_redis() -> Iterator[tuple[str, str]]:
    url = redis_or_skip()
    with redis_prefix() as prefix:
        yield url, prefix


def test_two_gateways_sharing_redis_answer_a_message_once(
    fake_api: tuple[FakeWeChatAPI, str], tmp_path: Path, shared_redis: tuple[str, str]
) -> None:
    api, url = fake_api
    redis_url, prefix = shared_redis
    turns_a, turns_b = CannedTurns(slow_seconds=1.5), CannedTurns(slow_seconds=1.5)
    settings = make_settings(tmp_path, url, redis_url=redis_url, redis_prefix=prefix)
    with run_gateway(settings, turns_a) as gateway_a, run_gateway(settings, turns_b) as gateway_b:
        at_a, at_b = Resident(gateway_a.url, "oShared", "safe"), Resident(gateway_b.url, "oShared", "safe")
        slow_xml, fast_xml = at_a.text_xml(SLOW), at_a.text_xml("两台网关")

        async def retries_everywhere(xml: str) -> list[str | None]:
            async with httpx.AsyncClient() as client:
                sent = [at_a.apost(client, xml), at_b.apost(client, xml), at_a.apost(client, xml)]
                return [at_a.read(r) for r in await asyncio.gather(*sent)]

        assert asyncio.run(retries_everywhere(slow_xml)) == [None, None, None]
        # Sent once, by one gateway; until then that gateway queues this resident's next answers.
        wait_for(lambda: api.sends)
        time.sleep(0.5)
        assert set(asyncio.run(retries_everywhere(fast_xml))) == {"答：两台网关"}
        at_a.ask(WITH_BUTTONS)
        at_b.ask("1")  # options offered by gateway A, chosen at gateway B
    assert len(turns_a.calls) + len(turns_b.calls) == 4
    assert turns_b.calls[-1][1] == '/book_appointment{"service":"低保申请"}'
    assert api.texts_to("oShared") == [f"慢答：{SLOW}"]
    assert len(api.token_fetches) == 1


def test_paging_and_numbers_work_across_gateways(
    fake_api: tuple[FakeWeChatAPI, str], tmp_path: Path, shared_redis: tuple[str, str]
) -> None:
    """The options and the page on screen live in Redis: each message may reach another gateway."""
    redis_url, prefix = shared_redis
    turns_a, turns_b = CannedTurns(), CannedTurns()
    settings = make_settings(tmp_path, fake_api[1], redis_url=redis_url, redis_prefix=prefix)
    with run_gateway(settings, turns_a) as gateway_a, run_gateway(settings, turns_b) as gateway_b:
        someone = Resident(gateway_a.url, "oPaging")  # one resident: message ids never repeat

        def ask_at(gateway: Gateway, text: str) -> str | None:
            someone.base_url = gateway.url
            return someone.ask(text)

        first = ask_at(gateway_a, SLOTS)
        assert first is not None and "回复 0 更多（共 15 项）" in first and "16:30" not in first
        more = ask_at(gateway_b, "0")
        assert more is not None and "回复 15 16:30（剩3个）" in more
        reminder = ask_at(gateway_a, "20")  # gateway A shows the page gateway B turned to
        assert (
            reminder is not None and reminder.startswith("请回复列表中的数字 1—15") and "回复 15" in reminder
        )
        ask_at(gateway_b, "13")
    assert turns_a.texts() == [SLOTS] and turns_b.texts() == ['/inform{"time": "15:30"}']


def test_token_refresh_is_single_across_clients_sharing_redis(
    fake_api: tuple[FakeWeChatAPI, str], tmp_path: Path, shared_redis: tuple[str, str]
) -> None:
    api, url = fake_api
    redis_url, prefix = shared_redis
    settings = make_settings(tmp_path, url, redis_url=redis_url, redis_prefix=prefix).wechat
    connections = [redis.Redis.from_url(redis_url) for _ in range(3)]
    clients = [GatewayWeChatClient(settings, connection) for connection in connections]
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda c=c: tokens.append(c.access_token)) for c in clients * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for connection in connections:
        connection.close()
    assert tokens == ["TOKEN-1"] * 12
    assert len(api.token_fetches) == 1


# --- the menu command -------------------------------------------------------------------------


def test_menu_command_creates_the_menu(
    fake_api: tuple[FakeWeChatAPI, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api, url = fake_api
    for name, value in {
        "ZY_WECHAT__API_BASE_URL": url,
        "ZY_WECHAT__APP_ID": "wx1234567890abcdef",
        "ZY_WECHAT__APP_SECRET": "test-app-secret",
        "ZY_WECHAT__REDIS_URL": "",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        assert command.main(["menu"]) == 0
    finally:
        get_settings.cache_clear()
    assert "3 个一级菜单" in capsys.readouterr().out
    [created] = api.menus
    assert created["button"] == MENU["button"] and created["access_token"] == "TOKEN-1"
    assert len(created["button"]) == 3
    assert all(len(b.get("sub_button", [])) <= 5 for b in created["button"])
