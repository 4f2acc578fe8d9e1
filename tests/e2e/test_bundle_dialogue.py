"""一件事 through the real Rasa and actions: a life-event question gets the bundle, a step follow-up
the step's guide, "what I have" a pre-check; on WeChat the steps are numbered options."""

from __future__ import annotations

import uuid

import pytest

from core.stack import Stack
from tests.e2e.test_wechat_real import FakeWeChatAPI, ask, option_number, resident

pytestmark = pytest.mark.e2e


def _texts(reply: dict) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


def _payload(reply: dict) -> dict:
    return next(m["payload"] for m in reply["messages"] if m.get("payload"))


def test_a_life_event_then_a_step_then_a_pre_check(stack: Stack) -> None:
    sender = f"web:{uuid.uuid4().hex}"
    event = stack.chat(sender, "我家娃娃刚生 要办些啥子")
    card = _payload(event)
    assert card["type"] == "bundle_card" and card["name"] == "新生儿出生一件事"
    titles = [step["title"] for step in card["steps"]]
    assert titles.index("办出生医学证明") < titles.index("上户口（出生登记）")
    assert [m["name"] for m in card["materials"]].count("居民户口簿") == 1
    assert "示例数据" in _texts(event)

    step = stack.chat(sender, "第三步要带啥")
    assert "出生登记" in _texts(step) and _payload(step)["type"] == "guide_card"

    checked = stack.chat(sender, "身份证和户口本我都有了 还差啥子")
    text = _texts(checked)
    assert _payload(checked)["type"] == "precheck"
    assert "材料预审" in text and "不是审批结果" in text


def test_wechat_numbers_the_steps_and_a_number_opens_one(
    stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    api = wechat_api[0]
    someone = resident(stack)
    event = ask(stack, someone, api, "想开个面馆 前前后后要办哪些证照")
    assert "开办餐饮店一件事" in event
    assert "有限责任公司" in event  # the other 经营主体 is named, not silently dropped
    number = option_number(event, "第2步")
    assert number == "2"
    second = ask(stack, someone, api, number)
    assert "食品经营许可证核发" in second


@pytest.mark.parametrize(
    "text",
    [
        "娃娃今年六岁了 九月份上一年级 户口不在这边 入学要先办哪些",  # the NLU reads 能不能办-like
        "那个我和老公准备在汇川开个小炒店嘛营业执照和食品的那个证是先办哪个后办哪个要好久才能开张",
    ],
)
def test_an_event_is_answered_whatever_the_nlu_makes_of_the_words(stack: Stack, text: str) -> None:
    reply = stack.chat(f"web:{uuid.uuid4().hex}", text)
    assert _payload(reply)["type"] == "bundle_card", _texts(reply)
