"""Whole conversations through the gateway's REST API, answered by the real Rasa and actions."""

from __future__ import annotations

import uuid

import pytest

from services.applications import ApplicationRequest
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def _sender() -> str:
    return f"web:{uuid.uuid4().hex}"


def _texts(reply: dict) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


def test_fee_question_then_follow_up_keeps_the_service(stack: Stack) -> None:
    sender = _sender()
    first = stack.chat(sender, "新农合今年交好多钱")
    assert first["intent"] == "ask_fee"
    assert "城乡居民基本医疗保险参保缴费" in _texts(first) and "元" in _texts(first)
    card = next(m for m in first["messages"] if m.get("payload"))
    assert card["payload"]["type"] == "guide_card"
    assert card["sources"][0]["title"] == "城乡居民基本医疗保险参保缴费"
    assert "示例数据" in card["sources"][0]["notice"]

    follow_up = stack.chat(sender, "那在哪点办嘛")
    assert follow_up["intent"] == "ask_location"
    text = _texts(follow_up)
    assert "城乡居民基本医疗保险参保缴费" in text and "政务服务中心" in text


def test_materials_are_a_numbered_list_with_next_steps(stack: Stack) -> None:
    reply = stack.chat(_sender(), "高龄补贴要带哪些材料")
    text = _texts(reply)
    assert "1. " in text and "原件" in text and "来源：《高龄补贴申领》" in text
    buttons = [b["title"] for m in reply["messages"] for b in m.get("buttons") or []]
    assert "预约办理" in buttons
    materials = next(m for m in reply["messages"] if m.get("payload"))["payload"]["materials"]
    assert any(item["e_license"] for item in materials)


def test_policy_question_quotes_the_plan(stack: Stack) -> None:
    text = _texts(stack.chat(_sender(), "啥子叫容缺受理"))
    assert "遵府办发〔2017〕39号" in text and "容缺受理" in text


def test_unrelated_question_is_not_answered_with_a_guide(stack: Stack) -> None:
    reply = stack.chat(_sender(), "今天遵义天气咋样")
    text = _texts(reply)
    assert "12345" in text
    assert not any(
        m.get("payload", {}) and m["payload"].get("type") == "guide_card" for m in reply["messages"]
    )


def test_status_check_needs_matching_proof(stack: Stack) -> None:
    application = stack.services.submit_application(
        ApplicationRequest(
            service_id="gaoling_butie",
            applicant_name="王德明",
            id_number="520302194503010024",
            phone="15885211234",
            channel="window",
            hall_id="city",
        ),
        handler="窗口",
    )
    sender = _sender()
    asked = _texts(stack.chat(sender, "帮我查下办件进度"))
    assert "办件编号" in asked
    assert "身份证号的后6位" in _texts(stack.chat(sender, application.number))
    wrong = _texts(stack.chat(sender, "123456"))
    assert "没有查到" in wrong and "王" not in wrong

    stack.chat(sender, "查办件进度")
    stack.chat(sender, application.number)
    right = _texts(stack.chat(sender, "010024"))
    assert application.number in right and "高龄补贴申领" in right


def test_asking_for_a_human_opens_a_ticket(stack: Stack) -> None:
    text = _texts(stack.chat(_sender(), "我要转人工"))
    assert "工单号" in text


def test_thanks_after_an_answer_offers_a_rating_that_a_tap_records(stack: Stack) -> None:
    sender = _sender()
    stack.chat(sender, "高龄补贴要带哪些材料")
    offered = stack.chat(sender, "谢谢")
    buttons = {b["title"]: b["payload"] for m in offered["messages"] for b in m.get("buttons") or []}
    assert "打个分" in _texts(offered) and set(buttons) >= {"1分", "5分"}

    recorded = _texts(stack.chat(sender, buttons["5分"]))
    assert "5分" in recorded and "谢谢" in recorded
    assert "打个分" not in _texts(stack.chat(sender, "谢谢"))


def test_status_check_can_be_interrupted_and_stopped(stack: Stack) -> None:
    sender = _sender()
    assert "办件编号" in _texts(stack.chat(sender, "帮我查下办件进度"))
    assert "身份证号的后6位" in _texts(stack.chat(sender, "ZW202611030012"))
    interrupted = _texts(stack.chat(sender, "高龄补贴要带哪些材料"))
    assert "来源：《高龄补贴申领》" in interrupted and "身份证号的后6位" in interrupted
    assert "先不查了" in _texts(stack.chat(sender, "算了"))
    assert "来源：《结婚登记》" in _texts(stack.chat(sender, "结婚登记要带哪些材料"))
