"""The eligibility form's actions with the real guides: start, validation, questions, verdict."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.eligibility import (
    ASK_ACTIONS,
    FACT_SLOTS,
    ActionGiveEligibilityVerdict,
    ActionStartEligibilityCheck,
    ValidateEligibilityForm,
    wants_conditions_list,
)

pytestmark = pytest.mark.slow

DOMAIN: dict[str, Any] = {"forms": {"eligibility_form": {"required_slots": FACT_SLOTS}}}


def tracker(
    text: str,
    intent: str = "inform",
    *,
    entities: list[dict] | None = None,
    slots: dict | None = None,
    answered: dict | None = None,
) -> Tracker:
    """`answered` are the slots the form just filled from this message (what the SDK validates)."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    events = [{"event": "user", "text": text}]
    events += [{"event": "slot", "name": name, "value": value} for name, value in (answered or {}).items()]
    all_slots = {**(slots or {}), **(answered or {})}
    return Tracker("web:test", all_slots, latest, events, False, None, {}, "action_listen")


async def run(action: Any, track: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, DOMAIN)
    return dispatcher.messages, events


def text_of(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def requested(events: list[dict]) -> str | None:
    return [e["value"] for e in events if e.get("name") == "requested_slot"][-1]


@pytest.mark.parametrize(
    ("text", "listing"),
    [
        ("低保的条件是哪样", True),
        ("哪些人可以申请公租房", True),
        ("我能不能办低保", False),
        ("我妈符合高龄补贴条件不", False),
        ('/ask_eligibility{"service": "结婚登记"}', False),
        ("八十岁能领高龄补贴不", True),
        ("男的多少岁才能领结婚证", True),
        ("我22了能领证吗", False),
    ],
)
def test_conditions_list_or_check(text: str, listing: bool) -> None:
    assert wants_conditions_list(text) is listing


async def test_asking_whether_i_can_starts_the_form_with_the_age_already_given() -> None:
    entities = [{"entity": "service", "value": "高龄补贴申领"}, {"entity": "age", "value": "85"}]
    messages, events = await run(
        ActionStartEligibilityCheck(), tracker("我85岁了能领高龄补贴不", "ask_eligibility", entities=entities)
    )
    assert "能不能办「高龄补贴申领」" in text_of(messages)
    assert SlotSet("eligibility_checking", True) in events
    assert SlotSet("eligibility_guide", "gaoling_butie") in events
    assert SlotSet("elig_age", 85) in events


async def test_asking_for_the_conditions_lists_them_and_offers_the_check() -> None:
    entities = [{"entity": "service", "value": "最低生活保障申请"}]
    messages, events = await run(
        ActionStartEligibilityCheck(), tracker("低保的条件是哪样", "ask_eligibility", entities=entities)
    )
    assert "申请「最低生活保障申请」的条件" in text_of(messages) and "来源：《最低生活保障申请》" in text_of(
        messages
    )
    assert messages[0]["buttons"][0] == {
        "title": "帮我判断",
        "payload": '/ask_eligibility{"service": "最低生活保障申请"}',
    }
    assert SlotSet("eligibility_checking", False) in events


async def test_whether_it_can_be_done_online_after_a_service_is_answered_not_checked() -> None:
    remembered = {"service": "高龄补贴申领", "last_guide": "gaoling_butie"}
    messages, events = await run(
        ActionStartEligibilityCheck(), tracker("能不能网上办", "ask_eligibility", slots=remembered)
    )
    assert "「高龄补贴申领」办理流程" in text_of(messages) and "网上办理：" in text_of(messages)
    assert "能不能办「高龄补贴申领」" not in text_of(messages)
    assert SlotSet("eligibility_checking", False) in events


async def test_a_guide_without_rules_is_left_to_the_window() -> None:
    entities = [{"entity": "service", "value": "普通护照签发"}]
    messages, events = await run(
        ActionStartEligibilityCheck(), tracker("我能办护照不", "ask_eligibility", entities=entities)
    )
    assert "窗口审核" in text_of(messages)
    assert SlotSet("eligibility_checking", False) in events


async def test_form_asks_the_first_fact_the_rules_need() -> None:
    _, events = await run(
        ValidateEligibilityForm(),
        tracker("我能不能办低保", slots={"eligibility_guide": "zuidi_shenghuo_baozhang_shenqing"}),
    )
    assert requested(events) == "elig_local_hukou"


async def test_an_answer_is_parsed_and_the_next_needed_fact_asked() -> None:
    track = tracker(
        "二十一岁",
        slots={"eligibility_guide": "jiehun_dengji", "requested_slot": "elig_age"},
        answered={"elig_age": "二十一岁"},
    )
    _, events = await run(ValidateEligibilityForm(), track)
    assert SlotSet("elig_age", 21) in events
    assert requested(events) == "elig_gender"


async def test_an_unclear_answer_is_re_asked_with_a_hint() -> None:
    track = tracker(
        "哈哈",
        slots={"eligibility_guide": "jiehun_dengji", "requested_slot": "elig_age"},
        answered={"elig_age": "哈哈"},
    )
    messages, events = await run(ValidateEligibilityForm(), track)
    assert "没听明白“哈哈”" in text_of(messages) and "68" in text_of(messages)
    assert SlotSet("elig_age", None) in events
    assert requested(events) == "elig_age"


async def test_yes_no_falls_back_on_the_intent() -> None:
    track = tracker(
        "嗯嗯嗯",
        "deny",
        slots={"eligibility_guide": "gaoling_butie", "requested_slot": "elig_local_hukou"},
        answered={"elig_local_hukou": "/deny"},
    )
    _, events = await run(ValidateEligibilityForm(), track)
    assert SlotSet("elig_local_hukou", False) in events
    assert requested(events) is None


async def test_dont_know_is_kept_and_not_asked_again() -> None:
    slots = {"eligibility_guide": "zuidi_shenghuo_baozhang_shenqing", "elig_local_hukou": True}
    track = tracker(
        "不晓得",
        slots={**slots, "requested_slot": "elig_monthly_income_per_capita"},
        answered={"elig_monthly_income_per_capita": "不晓得"},
    )
    _, events = await run(ValidateEligibilityForm(), track)
    assert SlotSet("elig_monthly_income_per_capita", "不清楚") in events
    assert requested(events) is None


async def test_suanle_stops_the_form() -> None:
    track = tracker(
        "算了",
        "deny",
        slots={"eligibility_guide": "gaoling_butie", "requested_slot": "elig_local_hukou"},
        answered={"elig_local_hukou": "算了"},
    )
    _, events = await run(ValidateEligibilityForm(), track)
    assert requested(events) is None and SlotSet("elig_local_hukou", None) in events
    messages, _ = await run(
        ActionGiveEligibilityVerdict(), tracker("算了", slots={"eligibility_guide": "gaoling_butie"})
    )
    assert "先不查了" in text_of(messages)


async def test_naming_another_service_restarts_the_check_for_it() -> None:
    track = tracker(
        "那结婚登记呢",
        entities=[{"entity": "service", "value": "结婚登记"}],
        slots={"eligibility_guide": "gaoling_butie", "requested_slot": "elig_age", "elig_local_hukou": True},
        answered={"elig_age": "那结婚登记呢"},
    )
    messages, events = await run(ValidateEligibilityForm(), track)
    assert "改为帮您看「结婚登记」" in text_of(messages)
    assert SlotSet("eligibility_guide", "jiehun_dengji") in events
    assert SlotSet("elig_local_hukou", None) in events
    assert requested(events) == "elig_age"


async def test_questions_offer_quick_replies() -> None:
    ask = next(action() for action in ASK_ACTIONS if action().name().endswith("elig_local_hukou"))
    assert ask.name() == "action_ask_eligibility_form_elig_local_hukou"
    messages, _ = await run(ask, tracker("我能不能办低保"))
    assert "户口在遵义市吗" in text_of(messages)
    assert [b["title"] for b in messages[0]["buttons"]] == ["是", "不是", "不清楚"]


async def test_verdict_names_the_deciding_rule_and_cites_the_guide() -> None:
    slots = {"eligibility_guide": "jiehun_dengji", "elig_age": 21, "elig_gender": "男"}
    messages, events = await run(ActionGiveEligibilityVerdict(), tracker("男", slots=slots))
    text = text_of(messages)
    assert "暂时不符合「结婚登记」" in text and "“男方年满22周岁”" in text and "来源：《结婚登记》" in text
    assert [b["title"] for b in messages[0]["buttons"]] == ["全部材料"]  # no booking for a wasted trip
    assert messages[0]["custom"]["outcome"] == "not_eligible"
    assert SlotSet("elig_age", None) in events and SlotSet("eligibility_checking", False) in events


async def test_verdict_eligible_lists_the_met_rules_and_the_rest_for_the_window() -> None:
    slots = {"eligibility_guide": "gaoling_butie", "elig_age": 85, "elig_local_hukou": True}
    messages, _ = await run(ActionGiveEligibilityVerdict(), tracker("是", slots=slots))
    text = text_of(messages)
    assert (
        "您符合「高龄补贴申领」可以初步判断的条件" in text and "“年满80周岁”" in text and "窗口审核" in text
    )


async def test_an_age_in_the_question_is_not_asked_again() -> None:
    entities = [{"entity": "service", "value": "结婚登记"}]
    _, events = await run(
        ActionStartEligibilityCheck(), tracker("我二十一岁能结婚不", "ask_eligibility", entities=entities)
    )
    assert SlotSet("elig_age", 21) in events


async def test_without_a_service_it_asks_which_one() -> None:
    messages, events = await run(ActionStartEligibilityCheck(), tracker("我符合条件吗", "ask_eligibility"))
    assert "能不能办哪一项" in text_of(messages)
    assert messages[0]["buttons"][0]["payload"] == '/ask_eligibility{"service": "最低生活保障申请"}'
    assert SlotSet("eligibility_checking", False) in events


async def test_after_three_unclear_answers_the_fact_counts_as_unknown() -> None:
    slots = {"eligibility_guide": "gaoling_butie", "requested_slot": "elig_local_hukou"}
    latest = {"text": "啊？", "intent": {"name": "inform", "confidence": 0.9}, "entities": []}
    events = [{"event": "slot", "name": "requested_slot", "value": "elig_local_hukou"}]
    for said in ("嗯？", "啥子哦", "啊？"):
        events.append({"event": "user", "text": said})
    events.append({"event": "slot", "name": "elig_local_hukou", "value": "啊？"})
    track = Tracker(
        "web:test", {**slots, "elig_local_hukou": "啊？"}, latest, events, False, None, {}, "action_listen"
    )
    messages, result = await run(ValidateEligibilityForm(), track)
    assert "先记为“不清楚”" in text_of(messages)
    assert SlotSet("elig_local_hukou", "不清楚") in result and requested(result) == "elig_age"


async def test_earlier_messages_do_not_count_as_attempts() -> None:
    slots = {"eligibility_guide": "gaoling_butie", "requested_slot": "elig_local_hukou"}
    latest = {"text": "啊？", "intent": {"name": "inform", "confidence": 0.9}, "entities": []}
    events = [{"event": "user", "text": said} for said in ("你好", "低保要啥材料", "我能领高龄补贴不")]
    events += [
        {"event": "slot", "name": "requested_slot", "value": "elig_local_hukou"},
        {"event": "user", "text": "啊？"},
        {"event": "slot", "name": "elig_local_hukou", "value": "啊？"},
    ]
    track = Tracker(
        "web:test", {**slots, "elig_local_hukou": "啊？"}, latest, events, False, None, {}, "action_listen"
    )
    messages, result = await run(ValidateEligibilityForm(), track)
    assert "没听明白" in text_of(messages) and requested(result) == "elig_local_hukou"
