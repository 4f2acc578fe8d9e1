"""The residents' benchmark: its judge (citations, buttons, tickets of a reply) and its dev set."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.residents import OFF_TOPIC, POLICY, Verdict, judge, load_questions
from core.settings import get_settings
from indexer.loader import load_guides

LOW_INCOME = "最低生活保障申请"
SPECIAL_HARDSHIP = "特困人员救助供养申请"


def guide_answer(name: str) -> dict[str, Any]:
    return {
        "messages": [
            {
                "text": f"办理「{name}」需要准备：\n1. 身份证",
                "buttons": [{"title": "预约办理", "payload": f'/book_appointment{{"service": "{name}"}}'}],
                "payload": {"type": "guide_card", "service": name, "section": "materials"},
                "sources": [{"title": name, "section": "申请材料"}],
            }
        ]
    }


def clarification(*names: str) -> dict[str, Any]:
    buttons = [{"title": name, "payload": f'/ask_materials{{"service": "{name}"}}'} for name in names]
    return {"messages": [{"text": "您问的是下面哪一项？请选择：", "buttons": buttons}]}


NOT_SURE = {
    "messages": [
        {
            "text": "抱歉，这个问题我没有把握回答……或拨打政务服务热线 12345，也可以说“转人工”。",
            "buttons": [{"title": "转人工", "payload": "/request_human"}],
            "payload": {"type": "unanswered"},
        }
    ]
}
POLICY_ANSWER = {
    "messages": [
        {
            "text": "根据遵义市……方案第三条：\n……",
            "payload": {"type": "policy", "doc_id": "zunyi-fubanfa-2017-39#3"},
            "sources": [{"title": "遵义市……实施方案", "section": "第三条"}],
        }
    ]
}
COMPLAINT = {
    "messages": [
        {
            "text": "已登记您的投诉，受理编号 TS20250101001。我们会转交相关部门处理。",
            "payload": {"type": "complaint", "tracking_number": "TS20250101001"},
        }
    ]
}


def test_the_expected_guide_answered_is_right() -> None:
    judgement = judge(LOW_INCOME, guide_answer(LOW_INCOME))
    assert judgement.verdict is Verdict.answered_right
    assert judgement.got == [LOW_INCOME]
    assert not judgement.ticket


def test_another_guide_answered_is_wrong_even_with_the_right_name_in_a_button() -> None:
    reply = guide_answer(SPECIAL_HARDSHIP)
    reply["messages"][0]["buttons"].append({"title": LOW_INCOME, "payload": LOW_INCOME})
    judgement = judge(LOW_INCOME, reply)
    assert judgement.verdict is Verdict.answered_wrong
    assert judgement.got == [SPECIAL_HARDSHIP]


def test_a_clarification_offering_the_guide_is_clarified_right() -> None:
    assert judge(LOW_INCOME, clarification(SPECIAL_HARDSHIP, LOW_INCOME)).verdict is Verdict.clarified_right
    assert judge(LOW_INCOME, clarification(SPECIAL_HARDSHIP)).verdict is Verdict.not_answered
    options_only = {
        "messages": [{"text": "您是想问：", "payload": {"type": "clarify", "options": [LOW_INCOME]}}]
    }
    assert judge(LOW_INCOME, options_only).verdict is Verdict.clarified_right


def test_not_sure_is_not_answered_and_is_no_ticket() -> None:
    judgement = judge(LOW_INCOME, NOT_SURE)
    assert judgement.verdict is Verdict.not_answered
    assert judgement.got == []
    assert not judgement.ticket


def test_the_start_of_an_eligibility_check_counts_for_its_guide() -> None:
    reply = {"messages": [{"text": "好的，我帮您初步判断能不能办「高龄补贴申领」，只问几个必要的问题。"}]}
    assert judge("高龄补贴申领", reply).verdict is Verdict.answered_right


def test_policy_questions_want_a_policy_answer() -> None:
    assert judge(POLICY, POLICY_ANSWER).verdict is Verdict.answered_right
    assert judge(POLICY, guide_answer(LOW_INCOME)).verdict is Verdict.answered_wrong
    assert judge(LOW_INCOME, POLICY_ANSWER).verdict is Verdict.answered_wrong


def test_off_topic_is_refused_unless_a_guide_or_the_policy_answers() -> None:
    assert judge(OFF_TOPIC, NOT_SURE).verdict is Verdict.refused
    assert judge(OFF_TOPIC, clarification(LOW_INCOME)).verdict is Verdict.refused
    assert judge(OFF_TOPIC, guide_answer(LOW_INCOME)).verdict is Verdict.answered
    assert judge(OFF_TOPIC, POLICY_ANSWER).verdict is Verdict.answered


def test_tickets_are_seen_by_payload_type_or_by_their_number_in_the_text() -> None:
    judgement = judge(LOW_INCOME, COMPLAINT)
    assert judgement.ticket
    assert judgement.verdict is Verdict.not_answered
    handoff_text_only = {"messages": [{"text": "已为您转接人工服务（工单号 RG000123），请稍候。"}]}
    assert judge(OFF_TOPIC, handoff_text_only).ticket
    handoff = {"messages": [{"text": "请稍候", "payload": {"type": "handoff", "ticket": "RG000123"}}]}
    assert judge(OFF_TOPIC, handoff).ticket


def test_the_dev_set_expects_real_guides_and_covers_each_one() -> None:
    names = {loaded.guide.name for loaded in load_guides(get_settings().knowledge.guides_dir).guides}
    questions = load_questions()
    per_guide = Counter(q.expect for q in questions)
    assert set(per_guide) - {POLICY, OFF_TOPIC} <= names
    assert {name: per_guide[name] for name in names if per_guide[name] < 3} == {}
    assert sum(q.expect == OFF_TOPIC for q in questions) >= 35
