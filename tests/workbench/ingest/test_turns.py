"""Rasa's events → turn facts, on events recorded from a real conversation: one fact per message,
with the kind, guide, district and latency a dashboard shows, and nothing personal in it."""

from __future__ import annotations

import datetime as dt
import json

from ingest_support import recorded_events
from svc_support import make_settings

from core.settings import PROJECT_ROOT
from services.log_privacy import pseudonym
from services.models import TurnKind
from workbench.ingest.places import load_places
from workbench.ingest.turns import TurnAssembler

KNOWLEDGE = PROJECT_ROOT / "knowledge"

SENDERS = ("web:5f0c2a9e8d7b4c3a9e1f2d3c4b5a6978", "web:0a1b2c3d4e5f60718293a4b5c6d7e8f9")
ID_NUMBER = "520302194503010024"
SECRET = make_settings("sqlite://").secret_key
# What the assistant did with each message of the recording, in order.
EXPECTED = [
    ("低保要带哪些材料", TurnKind.answered, "zuidi_shenghuo_baozhang_shenqing", "materials"),
    ("谢谢", TurnKind.other, None, None),
    ("5分", TurnKind.other, None, None),
    ("今天天气怎么样", TurnKind.out_of_scope, None, None),
    ("我要预约办理居民身份证", TurnKind.form_step, None, None),
    ("", TurnKind.form_step, None, None),  # 红花岗区政务服务中心: a form answer, words not kept
    ("", TurnKind.form_step, None, None),  # 明天上午
    ("补贴", TurnKind.fallback, None, None),  # nlu_fallback, then 您问的是下面哪一项
    ("我想问下那个东西咋个弄", TurnKind.fallback, None, None),
    ("火星移民签证怎么申请", TurnKind.fallback, None, None),
    ("请问汇川区办营业执照在哪里", TurnKind.clarified, None, None),
    (None, TurnKind.answered, "shenfenzheng_huanling_buling", "materials"),  # the ID number question
    ("转人工", TurnKind.handoff, None, None),
]


def test_each_message_becomes_one_turn_with_what_the_assistant_did(assembler: TurnAssembler) -> None:
    events = recorded_events()
    assembly = assembler.assemble(events)
    assert assembly.late == []
    user_events = [e for e in events if e["event"] == "user"]
    assert [t.turn_id for t in assembly.turns] == [e["message_id"] for e in user_events]
    for turn, (text, kind, guide, section) in zip(assembly.turns, EXPECTED, strict=True):
        if text is not None:
            assert turn.text == text
        assert (turn.outcome.kind, turn.outcome.guide_id, turn.outcome.section) == (kind, guide, section), (
            turn
        )
        assert turn.channel == "web"
        assert turn.outcome.replied_at is not None and turn.outcome.replied_at > turn.at
        assert turn.outcome.replied_at - turn.at < dt.timedelta(seconds=10)
    first = assembly.turns[0]
    assert first.intent == "ask_materials" and first.confidence is not None and first.confidence > 0.9
    assert {"entity": "service", "value": "最低生活保障申请"} in first.entities


def test_the_district_comes_from_the_words(assembler: TurnAssembler) -> None:
    turns = assembler.assemble(recorded_events()).turns
    districts = {turn.turn_id: turn.district for turn in turns}
    assert list(filter(None, districts.values())) == ["红花岗区", "汇川区"]


def test_senders_are_pseudonyms_and_numbers_are_masked(assembler: TurnAssembler) -> None:
    turns = assembler.assemble(recorded_events()).turns
    assert {t.sender for t in turns} == {pseudonym(s, secret=SECRET) for s in SENDERS}
    stored = json.dumps([(t.sender, t.text, t.entities) for t in turns], ensure_ascii=False)
    assert ID_NUMBER not in stored and not any(s in stored for s in SENDERS)
    asked = next(t for t in turns if "身份证号" in t.text)
    assert asked.text.startswith("我的身份证号") and asked.text.endswith("要办什么")


def test_replies_in_a_later_batch_join_their_question(assembler: TurnAssembler) -> None:
    events = recorded_events()
    whole = {t.turn_id: t for t in assembler.assemble(events).turns}
    handoff = max(i for i, e in enumerate(events) if e["event"] == "user")  # 转人工
    first, second = assembler.assemble(events[: handoff + 1]), assembler.assemble(events[handoff + 1 :])
    (asked,) = [t for t in first.turns if t.turn_id == events[handoff]["message_id"]]
    assert asked.outcome.kind is TurnKind.other and asked.outcome.replied_at is None
    assert second.turns == []
    (late,) = second.late
    assert late.sender == asked.sender and late.at >= asked.at
    assert asked.outcome.merge(late.outcome) == whole[asked.turn_id].outcome


def test_districts_are_named_as_the_halls_name_them(assembler: TurnAssembler) -> None:
    places = load_places(KNOWLEDGE / "dictionary", KNOWLEDGE / "halls.yaml")
    assert places.in_words("道真县低保在哪办") == "道真仡佬族苗族自治县"
    assert places.in_words("新蒲新区的公积金") == "新蒲新区"
    assert places.in_words("遵义市低保要带啥") is None  # the prefecture names no district
    booked = {
        "sender_id": SENDERS[0],
        "event": "bot",
        "timestamp": recorded_events()[-1]["timestamp"] + 1,
        "text": "预约成功",
        "data": {"custom": {"type": "booking", "service": "高龄补贴申领", "hall": "汇川区政务服务中心"}},
    }
    (late,) = assembler.assemble([booked]).late
    assert (late.outcome.kind, late.outcome.guide_id, late.outcome.district) == (
        TurnKind.form_step,
        "gaoling_butie",
        "汇川区",
    )
