"""The WeChat channel end to end: the real gateway under uvicorn, requests signed and encrypted by
wechatpy, and a fake WeChat API on loopback recording customer-service sends and token fetches."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # wechat_fake, whatever pytest's import mode

from wechat_fake import (
    AGE,
    GUIDE,
    GUIDE_NAME,
    LONG,
    LONG_WITH_OPTIONS,
    SLOT_STARTS,
    SLOTS,
    SLOW,
    WITH_BUTTONS,
    CannedTurns,
    FakeWeChatAPI,
    Gateway,
    Resident,
    assert_within_budget,
    make_settings,
    run_gateway,
    serve,
    sign,
)

from channels.wechat import inbound, options
from core.settings import WeChatSettings
from workbench.suggestions import load_curated

pytestmark = pytest.mark.e2e

# About two phone screens of Chinese text: the parts residents read, not WeChat's 2048-byte cap.
PHONE_BUDGET = 1000


@pytest.fixture(scope="module")
def fake_api() -> Iterator[tuple[FakeWeChatAPI, str]]:
    api = FakeWeChatAPI()
    with serve(api.app()) as url:
        yield api, url


@pytest.fixture(scope="module")
def turns() -> CannedTurns:
    return CannedTurns()


@pytest.fixture(scope="module")
def gateway(
    fake_api: tuple[FakeWeChatAPI, str], turns: CannedTurns, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    # The dialogue layer is built in parallel: CannedTurns stands in for it. Pass None instead to
    # run the real TurnHandler against Rasa.
    settings = make_settings(tmp_path_factory.mktemp("wechat"), fake_api[1], reply_max_bytes=PHONE_BUDGET)
    with run_gateway(settings, turns) as running:
        yield running


def wechat_settings(gateway: Gateway) -> WeChatSettings:
    settings: WeChatSettings = gateway.app.state.settings.wechat
    return settings


_openids = iter(range(10**6))


def resident(gateway: Gateway, mode: str = "plain") -> Resident:
    return Resident(gateway.url, f"oZunyi_{mode}_{next(_openids)}_{int(time.time())}", mode)


# --- URL verification -------------------------------------------------------------------------


def test_echostr_is_returned_for_a_good_signature(gateway: Gateway) -> None:
    ts, nonce = str(int(time.time())), "abc"
    params = {"signature": sign("test-wechat-token", ts, nonce), "timestamp": ts, "nonce": nonce}
    response = httpx.get(f"{gateway.url}/wechat", params={**params, "echostr": "8765309"})
    assert response.status_code == 200
    assert response.text == "8765309"


def test_echostr_is_refused_for_a_forged_signature(gateway: Gateway) -> None:
    ts, nonce = str(int(time.time())), "abc"
    params = {"signature": sign("wrong-token", ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "1"}
    response = httpx.get(f"{gateway.url}/wechat", params=params)
    assert response.status_code == 403
    assert "1" not in response.text.replace("403", "")


# --- modes, signatures, timestamps ------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
def test_text_is_answered_in_every_mode(gateway: Gateway, turns: CannedTurns, mode: str) -> None:
    someone = resident(gateway, mode)
    assert someone.ask("低保怎么申请") == "答：低保怎么申请"
    assert (f"wechat:{someone.openid}", "低保怎么申请", "wechat") in turns.calls


def test_safe_mode_reply_is_encrypted(gateway: Gateway) -> None:
    someone = resident(gateway, "safe")
    response = someone.post(someone.text_xml("你好"))
    assert "<Encrypt>" in response.text and "你好" not in response.text
    assert someone.read(response) == "答：你好"


def test_forged_signature_is_refused(gateway: Gateway) -> None:
    someone = resident(gateway)
    someone.token = "not-the-token"
    assert someone.post(someone.text_xml("你好")).status_code == 403


def test_forged_message_signature_is_refused_in_safe_mode(gateway: Gateway) -> None:
    someone = resident(gateway, "safe")
    response = someone.post(someone.text_xml("你好"), params={"msg_signature": "0" * 40})
    assert response.status_code == 403


def test_stale_timestamp_is_refused(gateway: Gateway) -> None:
    someone = resident(gateway)
    response = someone.post(someone.text_xml("你好"), timestamp=int(time.time()) - 301)
    assert response.status_code == 403


# --- message kinds ----------------------------------------------------------------------------


def test_voice_with_recognition_is_asked_as_text(gateway: Gateway, turns: CannedTurns) -> None:
    someone = resident(gateway)
    fields = "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format>"
    xml = someone.xml(
        "voice", fields + "<Recognition><![CDATA[户口迁移要什么材料]]></Recognition>", someone.next_id()
    )
    assert someone.read(someone.post(xml)) == "答：户口迁移要什么材料"


def test_voice_without_recognition_gets_a_polite_reply(gateway: Gateway) -> None:
    someone = resident(gateway)
    xml = someone.xml(
        "voice", "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format>", someone.next_id()
    )
    assert someone.read(someone.post(xml)) == inbound.VOICE_NOT_UNDERSTOOD


def test_subscribe_gets_the_welcome_with_numbered_suggestions(gateway: Gateway) -> None:
    # A fresh database has no recorded turns: “猜你想问” are the curated questions.
    settings = gateway.app.state.settings
    questions = load_curated(settings.knowledge.suggestions_file)[: settings.workbench.suggestions_count]
    assert httpx.get(f"{gateway.url}/api/suggestions").json() == {"questions": questions}
    someone = resident(gateway, "safe")
    reply = someone.read(someone.post(someone.event_xml("subscribe", "")))
    assert reply is not None and reply.startswith(inbound.WELCOME)
    assert "办事指南" in reply and "位置" in reply
    numbered = "\n".join(f"回复 {n} {q}" for n, q in enumerate(questions, start=1))
    assert reply.endswith(f"\n\n{inbound.SUGGESTIONS_LEAD}\n{numbered}")
    assert someone.ask("2") == f"答：{questions[1]}"  # a reply of that number asks it


@pytest.mark.parametrize(
    ("key", "question"),
    [("GUIDE", "办事指南"), ("PROGRESS", "查询办件进度"), ("APPOINTMENT", "预约办理"), ("HUMAN", "人工服务")],
)
def test_menu_clicks_ask_the_assistant(gateway: Gateway, key: str, question: str) -> None:
    someone = resident(gateway)
    assert someone.read(someone.post(someone.event_xml("CLICK", key))) == f"答：{question}"


def test_unknown_menu_key_gets_a_polite_reply(gateway: Gateway) -> None:
    someone = resident(gateway)
    assert someone.read(someone.post(someone.event_xml("CLICK", "NOPE"))) == inbound.UNKNOWN_MENU


def test_notification_events_get_success(gateway: Gateway) -> None:
    someone = resident(gateway)
    assert someone.read(someone.post(someone.event_xml("unsubscribe"))) is None


@pytest.mark.parametrize(
    ("latitude", "longitude", "hall"),
    [
        (28.58, 105.70, "赤水市政务服务中心"),
        (27.79, 106.40, "仁怀市政务服务中心"),
        (27.65, 106.92, "红花岗区"),
    ],
)
def test_location_gets_the_nearest_hall(
    gateway: Gateway, latitude: float, longitude: float, hall: str
) -> None:
    someone = resident(gateway, "compatible")
    fields = (
        f"<Location_X>{latitude}</Location_X><Location_Y>{longitude}</Location_Y>"
        "<Scale>15</Scale><Label><![CDATA[某地]]></Label>"
    )
    reply = someone.read(someone.post(someone.xml("location", fields, someone.next_id())))
    assert reply is not None
    assert hall in reply.splitlines()[0]
    assert "地址：" in reply and "电话：" in reply and "办公时间：" in reply


@pytest.mark.parametrize("msg_type", ["image", "video", "link", "hologram"])
def test_other_types_get_a_polite_reply(gateway: Gateway, msg_type: str) -> None:
    someone = resident(gateway)
    xml = someone.xml(msg_type, "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl>", someone.next_id())
    assert someone.read(someone.post(xml)) == inbound.UNSUPPORTED


# --- deadline, retries, customer-service sends -----------------------------------------------


def test_slow_answer_says_success_then_sends_once(
    gateway: Gateway, fake_api: tuple[FakeWeChatAPI, str]
) -> None:
    api, _ = fake_api
    someone = resident(gateway)
    started = time.monotonic()
    assert someone.ask(SLOW) is None
    assert time.monotonic() - started < 1.8  # the 1-second test deadline, not the 2-second turn
    deadline = time.monotonic() + 10
    while not api.texts_to(someone.openid) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert api.texts_to(someone.openid) == [f"慢答：{SLOW}"]


def test_retried_message_id_is_answered_once(gateway: Gateway, turns: CannedTurns) -> None:
    someone = resident(gateway)
    xml = someone.text_xml("重复的问题")
    replies = [someone.read(someone.post(xml)) for _ in range(3)]
    # WeChat retries only when it did not get the reply, so repeating it is still one answer.
    assert replies == ["答：重复的问题"] * 3
    assert turns.calls.count((f"wechat:{someone.openid}", "重复的问题", "wechat")) == 1


async def test_concurrent_retries_of_a_slow_message_make_one_send(
    gateway: Gateway, turns: CannedTurns, fake_api: tuple[FakeWeChatAPI, str]
) -> None:
    api, _ = fake_api
    someone = resident(gateway, "safe")
    xml = someone.xml("text", f"<Content><![CDATA[{SLOW}]]></Content>", someone.next_id())
    async with httpx.AsyncClient() as client:
        responses = await asyncio.gather(*(someone.apost(client, xml) for _ in range(3)))
    assert [someone.read(r) for r in responses] == [None, None, None]
    for _ in range(100):
        if api.texts_to(someone.openid):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    assert api.texts_to(someone.openid) == [f"慢答：{SLOW}"]
    assert sum(1 for sender, _, _ in turns.calls if sender == f"wechat:{someone.openid}") == 1


async def test_concurrent_retries_of_a_fast_message_ask_once(gateway: Gateway, turns: CannedTurns) -> None:
    someone = resident(gateway)
    xml = someone.text_xml("并发重试")
    async with httpx.AsyncClient() as client:
        responses = await asyncio.gather(*(someone.apost(client, xml) for _ in range(3)))
    assert {someone.read(r) for r in responses} == {"答：并发重试"}
    assert sum(1 for sender, _, _ in turns.calls if sender == f"wechat:{someone.openid}") == 1


def test_events_are_deduplicated_by_sender_and_time(gateway: Gateway, turns: CannedTurns) -> None:
    someone = resident(gateway)
    xml = someone.event_xml("CLICK", "POLICY", created=int(time.time()))
    assert [someone.read(someone.post(xml)) for _ in range(2)] == ["答：政策咨询"] * 2
    assert turns.calls.count((f"wechat:{someone.openid}", "政策咨询", "wechat")) == 1


# --- answers in several parts ------------------------------------------------------------------


def test_split_answer_arrives_head_first_through_one_queue(
    gateway: Gateway, fake_api: tuple[FakeWeChatAPI, str]
) -> None:
    """Nothing is shown passively (a head shown that way could land below the tail); each part is
    sent only once WeChat accepted the one before, and none after the head before the passive
    reply was delivered."""
    api, _ = fake_api
    api.send_seconds = 0.3  # the head is accepted well after "success" reached the resident
    try:
        someone = resident(gateway)
        assert someone.ask(LONG_WITH_OPTIONS) is None  # "success": nothing shown ahead of the parts
        delivered_at = time.monotonic()
        api.settled_texts_to(someone.openid, done=lambda texts: "回复 3" in "".join(texts), quiet=0.4)
        sends = api.sends_to(someone.openid)
    finally:
        api.send_seconds = 0.0
    parts = [send["text"]["content"] for send in sends]
    assert len(parts) >= 3
    assert_within_budget(parts, wechat_settings(gateway))
    numbered = [line for line in "\n".join(parts).splitlines() if line[:1].isdigit()]
    assert [int(line.split(".")[0]) for line in numbered] == list(range(1, 41))
    tail = sends[1:]
    assert all(send["received_at"] > delivered_at for send in tail)
    for before, after in itertools.pairwise(sends):
        assert after["received_at"] >= before["accepted_at"]


def test_next_answer_waits_for_the_earlier_one(
    gateway: Gateway, turns: CannedTurns, fake_api: tuple[FakeWeChatAPI, str]
) -> None:
    """A quick question after a slow one: its answer is queued behind the slow answer, not shown
    passively above it."""
    api, _ = fake_api
    someone = resident(gateway)
    assert someone.ask(SLOW) is None
    assert someone.ask("紧接着问") is None
    assert api.settled_texts_to(someone.openid, count=2) == [f"慢答：{SLOW}", "答：紧接着问"]
    assert someone.ask("之后照常") == "答：之后照常"  # nothing queued any more: passive again


def test_options_end_the_last_part_whole_and_still_answer_a_number(
    gateway: Gateway, turns: CannedTurns, fake_api: tuple[FakeWeChatAPI, str]
) -> None:
    api, _ = fake_api
    someone = resident(gateway)
    assert someone.ask(LONG_WITH_OPTIONS) is None
    parts = api.settled_texts_to(someone.openid, done=lambda texts: "回复 3" in "".join(texts), quiet=0.3)
    assert len(parts) >= 2
    assert_within_budget(parts, wechat_settings(gateway))
    *earlier, last = parts
    assert last.endswith("回复 1 预约办理\n回复 2 全部材料\n回复 3 我符合条件吗")
    assert not any("回复" in part for part in earlier)
    assert "1. 第1项材料" in parts[0] and "40. 第40项材料" in "\n".join(parts)
    someone.ask("2")
    assert turns.calls[-1][1] == f'/ask_materials{{"service": "{GUIDE_NAME}"}}'


# --- rendering --------------------------------------------------------------------------------


def test_guide_answer_has_one_short_source_line_and_fits_one_part(gateway: Gateway) -> None:
    """The text's citation and the card's source are one guide: one line, with the sample marker."""
    reply = resident(gateway).ask(GUIDE)
    assert reply is not None
    assert_within_budget([reply], wechat_settings(gateway))
    sources = [line for line in reply.splitlines() if line.startswith("来源")]
    assert sources == [f"来源：{GUIDE_NAME} · 2025-10-15 · 示例数据"]
    assert reply.startswith(f"「{GUIDE_NAME}」：2026年度个人缴费标准为400元")
    assert reply.endswith("回复 1 预约办理\n回复 2 全部材料\n回复 3 我符合条件吗")


def test_numbered_options_map_to_button_payloads(gateway: Gateway, turns: CannedTurns) -> None:
    someone = resident(gateway)
    reply = someone.ask(WITH_BUTTONS)
    assert reply is not None
    assert "回复 1 预约办理" in reply and "回复 2 查看材料" in reply
    assert "来源：最低生活保障申请 · 2024-05-01 · 示例数据" in reply
    someone.ask("1")
    assert turns.calls[-1] == (
        f"wechat:{someone.openid}",
        '/book_appointment{"service":"低保申请"}',
        "wechat",
    )
    someone.ask(WITH_BUTTONS)
    someone.ask("２")  # full-width, as Chinese keyboards often type it
    assert turns.calls[-1][1] == "低保申请要带哪些材料"


def test_a_number_matching_no_option_never_reaches_the_dialogue(gateway: Gateway, turns: CannedTurns) -> None:
    someone = resident(gateway)
    someone.ask(WITH_BUTTONS)
    asked = len(turns.calls)
    for number in ("7", "0", "3。"):
        again = someone.ask(number)
        assert again == "请回复列表中的数字 1—2：\n回复 1 预约办理\n回复 2 查看材料"
    assert len(turns.calls) == asked
    someone.ask("2")  # the options still stand after the reminders
    assert turns.calls[-1][1] == "低保申请要带哪些材料"
    hint = someone.ask("1")  # that answer offered nothing: no old option answers a new "1"
    assert hint == options.NOTHING_PENDING
    assert len(turns.calls) == asked + 1
    assert resident(gateway).ask("5") == options.NOTHING_PENDING  # nothing ever offered
    assert all(text not in {"1", "5", "7", "0"} for text in turns.texts())


def test_long_option_list_pages_with_zero(gateway: Gateway, turns: CannedTurns) -> None:
    """15 slots: the first 8 and "回复 0 更多"; 0 shows 9–15 (the afternoon was lost before), and
    the numbers mean the same slot whichever page is on screen."""
    someone = resident(gateway)
    first = someone.ask(SLOTS)
    assert first is not None
    assert first.splitlines()[:2] == ["明天还有这些时段可约，请选择：", ""]
    assert first.splitlines()[2:] == [
        *(f"回复 {n} {start}（剩3个）" for n, start in enumerate(SLOT_STARTS[:8], start=1)),
        "回复 0 更多（共 15 项）",
    ]
    asked = len(turns.calls)
    more = someone.ask("0")
    assert more is not None and "16:30" in more
    assert more.splitlines()[1:] == [
        *(f"回复 {n} {start}（剩3个）" for n, start in enumerate(SLOT_STARTS[8:], start=9)),
        "回复 0 回到第 1 项",
    ]
    reminder = someone.ask("16")
    assert (
        reminder is not None
        and reminder.startswith("请回复列表中的数字 1—15")
        and "回复 15 16:30" in reminder
    )
    back = someone.ask("0")
    assert back is not None and "回复 1 08:30（剩3个）" in back and "回复 9" not in back
    assert len(turns.calls) == asked
    someone.ask("14")
    assert turns.calls[-1][1] == '/inform{"time": "16:00"}'


def test_numbers_answer_a_question_asking_for_a_quantity(gateway: Gateway, turns: CannedTurns) -> None:
    someone = resident(gateway)
    reply = someone.ask(AGE)
    assert reply == "请问申请人今年多大年纪（周岁）？\n\n也可以直接回复“不清楚”"
    someone.ask("85")
    assert turns.calls[-1][1] == "85"


def test_long_answer_is_split(gateway: Gateway, fake_api: tuple[FakeWeChatAPI, str]) -> None:
    api, _ = fake_api
    someone = resident(gateway)
    assert someone.ask(LONG) is None
    parts = api.settled_texts_to(someone.openid, done=lambda texts: "第199条" in "".join(texts), quiet=0.3)
    assert len(parts) >= 4
    assert_within_budget(parts, wechat_settings(gateway))
    lines = "\n".join(parts).splitlines()
    assert lines[0].startswith("第0条") and lines[-1].startswith("第199条") and len(lines) == 200


# --- bad input --------------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>"
)


BAD_BODIES = {
    "empty": b"",
    "blank": b"   ",
    "truncated": b"<xml><ToUserName>",
    "not-xml": b"not xml at all",
    "no-fields": b"<xml>text only</xml>",
    "wrong-root": b"<other><MsgType>text</MsgType></other>",
    "billion-laughs": BILLION_LAUGHS.encode(),
    "external-entity": b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>',
    "no-sender": b"<xml><ToUserName>a</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
    "bad-sender": b"<xml><FromUserName>o]]&gt;x</FromUserName><MsgType>text</MsgType></xml>",
    "nested-type": b"<xml><FromUserName>oX</FromUserName><MsgType><a>1</a></MsgType></xml>",
}


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_bodies_get_a_4xx(gateway: Gateway, mode: str, body: bytes) -> None:
    """Encrypted modes carry the same bad document inside a valid envelope."""
    response = resident(gateway, mode).post(body)
    assert 400 <= response.status_code < 500, response.text


def test_invalid_utf8_gets_a_4xx(gateway: Gateway) -> None:
    someone = resident(gateway)
    response = someone.post(someone.text_xml("你好").encode("utf-8").replace("你".encode(), b"\xff\xfe"))
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]


def test_garbage_ciphertext_gets_a_4xx(gateway: Gateway) -> None:
    someone = resident(gateway, "safe")
    ts, nonce = str(int(time.time())), "n1"
    body = "<xml><ToUserName>a</ToUserName><Encrypt><![CDATA[bm90IGFlcw==]]></Encrypt></xml>"
    params = {
        "signature": sign("test-wechat-token", ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": sign("test-wechat-token", ts, nonce, "bm90IGFlcw=="),
    }
    response = httpx.post(f"{gateway.url}/wechat", params=params, content=body)
    assert response.status_code == 400
    assert someone.ask("之后一切照常") == "答：之后一切照常"


def test_oversized_body_gets_413(gateway: Gateway) -> None:
    someone = resident(gateway)
    assert someone.post(someone.text_xml("长" * 40_000)).status_code == 413


def test_unsigned_request_gets_a_4xx(gateway: Gateway) -> None:
    response = httpx.post(f"{gateway.url}/wechat", content=b"<xml/>")
    assert response.status_code == 400


def test_failing_dialogue_gets_a_polite_reply(gateway: Gateway) -> None:
    someone = resident(gateway)
    reply = someone.ask("出错")
    assert reply is not None and "系统繁忙" in reply and "12345" in reply
