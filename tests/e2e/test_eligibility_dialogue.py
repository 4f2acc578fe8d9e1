"""The eligibility form through the gateway, answered by the real Rasa server and action server."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def _texts(reply: dict) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


def _buttons(reply: dict) -> list[str]:
    return [b["title"] for m in reply["messages"] for b in m.get("buttons") or []]


def test_marriage_check_with_an_interruption_ends_with_the_deciding_rule(stack: Stack) -> None:
    sender = f"web:{uuid.uuid4().hex}"
    # The guide answer's 我符合条件吗 button sends this payload.
    start = stack.chat(sender, '/ask_eligibility{"service": "结婚登记"}')
    assert "能不能办「结婚登记」" in _texts(start) and "多大年纪" in _texts(start)

    interrupted = stack.chat(sender, "结婚登记要带哪些材料")
    assert "「结婚登记」需要准备" in _texts(interrupted)
    assert "多大年纪" in _texts(interrupted), "the form asks its question again after the answer"

    unclear = stack.chat(sender, "哈哈")
    assert "没听明白" in _texts(unclear) and "多大年纪" in _texts(unclear)

    gender = stack.chat(sender, "二十一岁")
    assert "男士还是女士" in _texts(gender) and _buttons(gender)[:2] == ["男", "女"]

    verdict = stack.chat(sender, "男")
    text = _texts(verdict)
    assert "暂时不符合「结婚登记」" in text and "“男方年满22周岁”" in text
    assert "来源：《结婚登记》" in text and "示例数据" in text
    assert _buttons(verdict) == ["全部材料"]  # not eligible: no booking offered


def test_a_natural_question_checks_eligibility_and_the_age_it_gave_is_not_asked(stack: Stack) -> None:
    sender = f"web:{uuid.uuid4().hex}"
    first = stack.chat(sender, "我妈今年85岁了，能不能领高龄补贴")
    assert first["intent"] == "ask_eligibility"
    assert "户口在遵义市吗" in _texts(first) and "多大年纪" not in _texts(first)
    verdict = _texts(stack.chat(sender, "是的嘛"))
    assert "您符合「高龄补贴申领」" in verdict and "“年满80周岁”" in verdict

    again = stack.chat(sender, "我能不能申请低保")
    assert "户口在遵义市吗" in _texts(again)
    assert "先不查了" in _texts(stack.chat(sender, "算了"))
