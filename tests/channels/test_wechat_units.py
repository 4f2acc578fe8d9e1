"""The WeChat channel's small units: rendering, splitting, halls, the store, signatures, tokens."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))  # wechat_fake, whatever pytest's import mode

from wechat_fake import TOKEN, FakeWeChatAPI, make_settings, serve

from channels.messages import Button, ChatResponse, OutgoingMessage, Source
from channels.wechat.client import GatewayWeChatClient
from channels.wechat.halls import HallDirectory, distance_km
from channels.wechat.menu import MENU, check_menu
from channels.wechat.protocol import Query, Rejected, WeChatProtocol, sign
from channels.wechat.render import render, split_text
from channels.wechat.store import MemoryStore
from core.settings import PROJECT_ROOT, WeChatSettings


def test_split_respects_the_byte_limit_and_prefers_line_breaks() -> None:
    text = "\n".join("遵义市政务服务中心办理事项说明第" + str(n) + "行" for n in range(300))
    parts = split_text(text, 500)
    assert all(len(p.encode("utf-8")) <= 500 for p in parts)
    assert "\n".join(parts) == text  # cut only at line breaks here, nothing lost


def test_split_cuts_a_long_line_without_breaking_characters() -> None:
    parts = split_text("政" * 1000, 301)
    assert all(len(p.encode("utf-8")) <= 301 for p in parts)
    assert "".join(parts) == "政" * 1000


def test_split_keeps_cdata_intact() -> None:
    assert split_text("a]]>b", 200) == ["a]] >b"]


def test_render_numbers_options_and_adds_sources() -> None:
    response = ChatResponse(
        messages=[
            OutgoingMessage(
                text="低保申请材料：", sources=[Source(title="最低生活保障", updated="2024-01-02")]
            ),
            OutgoingMessage(buttons=[Button(title=f"选项{n}", payload=f"/p{n}") for n in range(12)]),
        ]
    )
    rendered = render(response, 2000)
    [text] = rendered.parts
    assert text.startswith("低保申请材料：\n来源：最低生活保障 · 2024-01-02\n\n回复 1 选项0\n")
    assert text.endswith("回复 9 选项8")
    assert [b.payload for b in rendered.options] == [f"/p{n}" for n in range(9)]


def test_nearest_hall() -> None:
    halls = HallDirectory.load(PROJECT_ROOT / "knowledge" / "halls.yaml")
    found = halls.nearest(27.7245, 107.0321)
    assert found is not None and found[0].name == "遵义市政务服务中心" and found[1] < 0.01
    assert 90 < distance_km(27.7245, 107.0321, 28.5903, 105.6978) < 200
    assert HallDirectory(halls=[]).nearest(27.0, 107.0) is None


async def test_memory_store_claims_once_and_expires() -> None:
    store = MemoryStore()
    assert await store.claim("k", "a", ttl=0.05)
    assert not await store.claim("k", "b", ttl=0.05)
    assert await store.get("k") == "a"
    time.sleep(0.06)
    assert await store.get("k") is None
    assert await store.claim("k", "c", ttl=1)
    for n in range(5):
        await store.append("list", str(n), keep=3)
    assert await store.entries("list") == ["2", "3", "4"]


def protocol_at(now: float) -> WeChatProtocol:
    return WeChatProtocol(WeChatSettings(token=SecretStr(TOKEN)), clock=lambda: now)


def test_signature_and_timestamp_window() -> None:
    now = 1_700_000_000
    good = Query(sign(TOKEN, str(now), "n"), str(now), "n")
    protocol_at(now + 300).verify(good)
    for late in (now + 301, now - 301):
        with pytest.raises(Rejected) as refused:
            protocol_at(late).verify(good)
        assert refused.value.status_code == 403
    with pytest.raises(Rejected):
        protocol_at(now).verify(Query(sign("other", str(now), "n"), str(now), "n"))
    with pytest.raises(Rejected) as refused:
        protocol_at(now).verify(Query("x", "soon", "n"))
    assert refused.value.status_code == 400


def test_encrypted_message_without_a_key_is_refused() -> None:
    now = int(time.time())
    query = Query(sign(TOKEN, str(now), "n"), str(now), "n", "aes", "sig")
    with pytest.raises(Rejected) as refused:
        protocol_at(now).open(query, b"<xml><Encrypt>abc</Encrypt></xml>")
    assert refused.value.status_code == 400


def test_menu_fits_wechat_limits() -> None:
    check_menu(MENU)
    with pytest.raises(ValueError, match="top-level"):
        check_menu({"button": [{"name": str(n)} for n in range(4)]})
    with pytest.raises(ValueError, match="sub-entries"):
        check_menu({"button": [{"name": "a", "sub_button": [{}] * 6}]})


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeWeChatAPI, str]]:
    api = FakeWeChatAPI()
    with serve(api.app()) as url:
        yield api, url


def test_concurrent_threads_fetch_the_token_once(fake_api: tuple[FakeWeChatAPI, str], tmp_path: Path) -> None:
    api, url = fake_api
    client = GatewayWeChatClient(make_settings(tmp_path, url).wechat)
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(client.access_token)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tokens == ["TOKEN-1"] * 8 and len(api.token_fetches) == 1
    client.invalidate("TOKEN-0")  # someone else's stale token: ours stays
    assert client.access_token == "TOKEN-1"
    client.invalidate("TOKEN-1")
    assert client.access_token == "TOKEN-2" and len(api.token_fetches) == 2
