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

from answering.decision import Decision, Kind
from answering.render import render_guide_answer
from bot.actions.eligibility import QUESTIONS as ELIGIBILITY_QUESTIONS
from channels.messages import Button, ChatResponse, OutgoingMessage, Source
from channels.rasa_client import merge_custom_into_text, to_message
from channels.wechat.client import GatewayWeChatClient
from channels.wechat.halls import HallDirectory, distance_km
from channels.wechat.menu import MENU, check_menu
from channels.wechat.options import (
    NOTHING_PENDING,
    Choose,
    Offer,
    OfferBook,
    Pass,
    Show,
    asks_for_quantity,
    interpret,
    offer_for,
    read_number,
)
from channels.wechat.protocol import Query, Rejected, WeChatProtocol, sign
from channels.wechat.render import pack, render, split_text
from channels.wechat.store import MemoryStore
from core.settings import PROJECT_ROOT, WeChatSettings
from indexer.loader import load_guides


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


def test_split_prefers_a_paragraph_break() -> None:
    first = "第一段：" + "低保申请材料说明。" * 20
    second = "第二段：\n" + "\n".join(f"第{n}行" for n in range(30))
    head, *_ = split_text(f"{first}\n\n{second}", 700)
    assert head == first


def guide_reply(name: str, aspect: str) -> ChatResponse:
    """A real guide answer, shaped as Rasa's REST channel returns it and the gateway merges it."""
    guides = load_guides(PROJECT_ROOT / "knowledge" / "guides")
    guide = next(loaded.guide for loaded in guides.guides if loaded.guide.name == name)
    reply = render_guide_answer(Decision(kind=Kind.answer, evidence="test", guide=guide, aspect=aspect))
    rest = [{"text": reply.text, "buttons": reply.buttons}, {"custom": reply.payload}]
    return ChatResponse(messages=merge_custom_into_text([to_message(m) for m in rest]))


@pytest.mark.parametrize("aspect", ["overview", "materials", "fee"])
def test_real_guide_answer_has_one_compact_source_line(aspect: str) -> None:
    response = guide_reply("城乡居民基本医疗保险参保缴费", aspect)
    [text] = render(response, 2000).parts
    sources = [line for line in text.splitlines() if "来源" in line]
    assert len(sources) == 1
    assert sources[0].startswith("来源：城乡居民基本医疗保险参保缴费 · 20") and sources[0].endswith(
        " · 示例数据"
    )
    assert len(sources[0].encode("utf-8")) < 100
    assert text.endswith("回复 1 预约办理\n回复 2 全部材料\n回复 3 我符合条件吗")


CITATION = (
    "来源：《最低生活保障申请》办事指南 · 民政局 · 更新于2024年5月1日（示例数据，以贵州政务服务网公布为准）"
)


def test_sources_of_one_guide_merge_and_others_share_the_line() -> None:
    response = ChatResponse(
        messages=[
            OutgoingMessage(
                text=f"低保申请材料：\n{CITATION}",
                sources=[
                    Source(
                        title="最低生活保障申请",
                        updated="2024-01-02",
                        notice="示例数据，以贵州政务服务网公布为准",
                    )
                ],
            ),
            OutgoingMessage(
                text="相关政策：", sources=[Source(title="遵义市社会救助实施办法", notice="以正式文件为准")]
            ),
            OutgoingMessage(
                text="刚才的解答对您有帮助吗？", buttons=[Button(title="有帮助", payload="/rate")]
            ),
        ]
    )
    [text] = render(response, 2000).parts
    assert text == (
        "低保申请材料：\n\n相关政策：\n"
        "来源：最低生活保障申请 · 2024-05-01；遵义市社会救助实施办法 · 示例数据 · 以正式文件为准\n\n"
        "刚才的解答对您有帮助吗？\n\n回复 1 有帮助"
    )


def test_render_shows_nine_options_whole_and_pages_a_longer_list() -> None:
    nine = ChatResponse(
        messages=[OutgoingMessage(buttons=[Button(title=f"选项{n}", payload=f"/p{n}") for n in range(1, 10)])]
    )
    [text] = render(nine, 2000).parts
    assert text.splitlines() == [f"回复 {n} 选项{n}" for n in range(1, 10)]
    twelve = ChatResponse(
        messages=[
            OutgoingMessage(
                text="请选择：", buttons=[Button(title=f"选项{n}", payload=f"/p{n}") for n in range(1, 13)]
            )
        ]
    )
    rendered = render(twelve, 2000)
    assert rendered.parts[0].splitlines()[2:] == [
        *(f"回复 {n} 选项{n}" for n in range(1, 9)),
        "回复 0 更多（共 12 项）",
    ]
    assert rendered.offer is not None and [b.payload for b in rendered.offer.options] == [
        f"/p{n}" for n in range(1, 13)
    ]


def test_long_answer_keeps_the_options_whole_in_the_last_part() -> None:
    body = "\n".join(f"{n}. 材料说明第{n}行，原件一份，复印件一份。" for n in range(1, 60))
    buttons = [Button(title=f"办理方式第{n}项", payload=f"/p{n}") for n in range(1, 10)]
    options = "\n".join(f"回复 {n} 办理方式第{n}项" for n in range(1, 10))
    parts = render(ChatResponse(messages=[OutgoingMessage(text=body, buttons=buttons)]), 400).parts
    assert len(parts) > 3 and all(len(p.encode("utf-8")) <= 400 for p in parts)
    assert parts[-1].endswith(options)
    assert not any("回复" in p for p in parts[:-1])
    assert "\n".join(parts).replace("\n\n", "\n") == f"{body}\n{options}"  # nothing lost or cut


def test_options_too_long_for_one_part_are_cut_between_options() -> None:
    buttons = [Button(title=f"第{n}个很长的选项标题，用来占位" * 2, payload=f"/p{n}") for n in range(1, 10)]
    parts = render(ChatResponse(messages=[OutgoingMessage(text="请选择：", buttons=buttons)]), 300).parts
    assert len(parts) >= 3 and all(len(p.encode("utf-8")) <= 300 for p in parts)
    lines = [line for p in parts for line in p.splitlines() if line]
    assert lines == ["请选择：", *(f"回复 {n} {b.title}" for n, b in enumerate(buttons, start=1))]


def test_short_body_and_options_share_the_first_part() -> None:
    body = "\n".join(f"第{n}行说明。" for n in range(10))
    options = "\n".join(f"回复 {n} 选项{n}" for n in range(1, 4))
    assert pack(body, options, 2000) == [f"{body}\n\n{options}"]
    long_body = "\n".join(f"第{n}行，较长的说明文字。" for n in range(9))
    first, last = pack(long_body, options, 300)
    assert long_body.startswith(first)
    assert last.endswith(options) and last != options  # the last body lines and the options together


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3", 3), ("３", 3), (" 12 ", 12), ("3。", 3), ("0", 0), ("123", None), ("3个", None), ("第3", None)],
)
def test_read_number(text: str, expected: int | None) -> None:
    assert read_number(text) == expected


def buttons(count: int) -> list[Button]:
    return [Button(title=f"选项{n}", payload=f"/p{n}") for n in range(1, count + 1)]


def test_interpret_numbers() -> None:
    three = Offer(options=buttons(3))
    assert interpret("2", three) == Choose("/p2")
    assert interpret("低保", three) == Pass()
    for number in ("7", "0"):
        shown = interpret(number, three)
        assert isinstance(shown, Show) and shown.offer == three
        assert shown.text == "请回复列表中的数字 1—3：\n回复 1 选项1\n回复 2 选项2\n回复 3 选项3"
    assert interpret("1", None) == Show(NOTHING_PENDING, None)
    age = offer_for([Button(title="不清楚", payload="不清楚")], "请问申请人今年多大年纪（周岁）？")
    assert age is not None and age.block() == "也可以直接回复“不清楚”"
    assert interpret("85", age) == Pass() and interpret("0", age) == Pass()


def test_pages_wrap_and_numbers_stay_global() -> None:
    offer = Offer(options=buttons(20))
    shown = interpret("0", offer)
    assert isinstance(shown, Show) and shown.offer is not None and shown.offer.page == 1
    assert (
        "回复 9 选项9" in shown.text
        and "回复 16 选项16" in shown.text
        and "回复 0 更多（共 20 项）" in shown.text
    )
    last = interpret("0", shown.offer)
    assert isinstance(last, Show) and last.offer is not None
    assert last.text.splitlines()[1:] == [*(f"回复 {n} 选项{n}" for n in range(17, 21)), "回复 0 回到第 1 项"]
    assert interpret("3", last.offer) == Choose("/p3")  # page 1's numbers still mean page 1's options
    again = interpret("0", last.offer)
    assert isinstance(again, Show) and again.offer is not None and again.offer.page == 0


def test_only_questions_asking_a_quantity_take_numbers_as_answers() -> None:
    """The eligibility check's own questions: those without quick replies are answered in numbers
    ("68", "0"), the others by picking a reply. A greeting that mentions 多久 asks nothing of the kind."""
    for question, replies in ELIGIBILITY_QUESTIONS.values():
        assert asks_for_quantity(question) == (not replies), question
    greeting = "您好！我可以帮您查办事指南（要带哪些材料、在哪办、收不收费、多久办好）。请问您想办什么事？"
    assert not asks_for_quantity(greeting)


async def test_options_are_kept_per_resident_and_bad_records_ignored() -> None:
    store = MemoryStore()
    book = OfferBook(store, ttl=60)
    await book.keep("oA", Offer(options=buttons(3), page=0))
    assert await book.get("oA") == Offer(options=buttons(3))
    assert await book.get("oB") is None
    await store.put("options:oC", '["/p1", "/p2"]', 60)  # a record in an earlier format
    assert await book.get("oC") is None
    await book.keep("oA", None)
    assert await book.get("oA") is None


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
