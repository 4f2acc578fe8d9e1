"""Complaints through the REST channel with the real Rasa model, action server and services
database: a complaint is filed only after its summary is confirmed with 提交, and questions that
merely sound annoyed open no complaint and no handoff ticket."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

TICKET_WORDS = ("受理编号", "工单号")


def _texts(reply: dict) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


def _buttons(reply: dict) -> dict[str, str]:
    return {b["title"]: b["payload"] for m in reply["messages"] for b in m.get("buttons") or []}


def _tickets(stack: Stack, action: str) -> int:
    return len(stack.services.audit_log(reader="测试", limit=100_000, action=action))


class Conversation:
    """One resident's turns, kept as the transcript a person would read (printed with -s)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sender = f"web:{uuid.uuid4().hex}"
        self.lines: list[str] = []

    def say(self, text: str) -> dict:
        reply = self.stack.chat(self.sender, text)
        self.lines.append(f"居民：{text}")
        for message in reply["messages"]:
            if message.get("text"):
                self.lines.append(f"贵博士：{message['text']}")
            if message.get("buttons"):
                self.lines.append("　　［" + "］［".join(b["title"] for b in message["buttons"]) + "］")
        return reply

    def show(self) -> None:
        print("\n" + "\n".join(self.lines))


def test_a_complaint_is_asked_for_summarised_and_filed_only_on_submit(stack: Stack) -> None:
    before = _tickets(stack, "complaint.open")
    talk = Conversation(stack)
    try:
        asked = talk.say("我要投诉")
        assert "遇到了什么问题" in _texts(asked) and "您是要投诉" not in _texts(asked)

        place = talk.say("办证窗口的人态度很差让我跑了三趟")
        assert "发生在哪里" in _texts(place) and "跳过" in _buttons(place)
        contact = talk.say("跳过")
        assert "手机号" in _texts(contact) and "跳过" in _buttons(contact)
        summary = talk.say("跳过")
        text = _texts(summary)
        assert "请核对" in text and "办证窗口的人态度很差让我跑了三趟" in text
        assert "地点：未填写" in text and "联系电话：未留" in text
        buttons = _buttons(summary)
        assert list(buttons) == ["提交", "修改", "取消"]
        assert all(payload.startswith("/") for payload in buttons.values())

        not_submit = talk.say("2")
        assert not any(word in _texts(not_submit) for word in TICKET_WORDS)
        assert "还没有提交" in _texts(not_submit) and "请核对" in _texts(not_submit)
        assert _tickets(stack, "complaint.open") == before

        filed = talk.say("提交")
        text = _texts(filed)
        number = re.search(r"受理编号 (TS\w+)", text)
        assert number, text
        assert _tickets(stack, "complaint.open") == before + 1
        assert stack.services.complaint_status(number.group(1)).status_label == "已登记，待处理"
        payload = next(m["payload"] for m in filed["messages"] if m.get("payload"))
        assert payload == {"type": "complaint", "tracking_number": number.group(1)}
    finally:
        talk.show()


def test_the_summary_buttons_edit_and_cancel_without_filing(stack: Stack) -> None:
    before = _tickets(stack, "complaint.open")
    talk = Conversation(stack)
    try:
        talk.say("我要投诉，社保窗口十一点半就不办了")
        talk.say("跳过")
        summary = talk.say("15885211234")
        assert "158****1234" in _texts(summary) and "15885211234" not in _texts(summary)
        edit = talk.say(_buttons(summary)["修改"])
        assert "要修改哪一项" in _texts(edit)
        place = talk.say(_buttons(edit)["地点"])
        assert "发生在哪里" in _texts(place)
        summary = talk.say("汇川区政务服务中心")
        assert "地点：汇川区政务服务中心" in _texts(summary)
        cancelled = talk.say(_buttons(summary)["取消"])
        assert "没有提交" in _texts(cancelled)
        assert _tickets(stack, "complaint.open") == before
    finally:
        talk.show()


@pytest.mark.parametrize(
    "question",
    [
        "公司年报忘记报了现在被列入异常名录了好麻烦哦咋个补报",
        "买了台收割机说是有补贴结果等了好久都没到账烦死了找哪个",
        "听说现在办事最多跑一次是真的不我上次跑了好几趟",
    ],
)
def test_annoyed_questions_open_no_ticket(stack: Stack, question: str) -> None:
    complaints, handoffs = _tickets(stack, "complaint.open"), _tickets(stack, "handoff.open")
    talk = Conversation(stack)
    try:
        reply = talk.say(question)
        assert not any(word in _texts(reply) for word in TICKET_WORDS)
        assert not any(
            (m.get("payload") or {}).get("type") in ("complaint", "handoff") for m in reply["messages"]
        )
        assert _tickets(stack, "complaint.open") == complaints
        assert _tickets(stack, "handoff.open") == handoffs
    finally:
        talk.show()
