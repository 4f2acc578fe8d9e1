"""Nothing is booked, cancelled or filed on a misread word: at every confirmation "2", 修改,
改一下 and 不对 do not confirm (on WeChat "2" is the 修改 option, on the web it is just a
number), and only the affirm option does. Real Rasa, action server and services database."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from services.appointments import BookingRequest
from services.errors import DomainError
from services.models import Appointment, AppointmentStatus, Complaint
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

# People of their own: the stack (and its database) is shared with the other e2e files, where
# 520302194503010024 books 结婚登记 too, and one person holds one booking per service.
ID_NUMBER = "520302199002020032"
OTHER_ID_NUMBER = "520302198001010022"
PHONE = "15885211234"


def _texts(reply: dict) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


def _buttons(reply: dict) -> list[dict]:
    return [button for message in reply["messages"] for button in message.get("buttons") or []]


def _rows(stack: Stack, model: type) -> int:
    with stack.services.unit() as (session, _ctx):
        return session.query(model).count()


def _open(stack: Stack, day: dt.date) -> bool:
    try:
        return any(slot.remaining for slot in stack.services.free_slots("city", "jiehun_dengji", day))
    except DomainError:
        return False


def _to_the_summary(stack: Stack, sender: str) -> dict:
    reply = stack.chat(sender, "我想预约办理结婚登记")
    reply = stack.chat(sender, '/inform{"hall": "遵义市政务服务中心"}')
    reply = stack.chat(sender, _buttons(reply)[0]["payload"])  # the first open day
    reply = stack.chat(sender, _buttons(reply)[0]["payload"])  # its first slot
    stack.chat(sender, "王德明")
    stack.chat(sender, ID_NUMBER)
    summary = stack.chat(sender, PHONE)
    assert "请核对预约信息" in _texts(summary), _texts(summary)
    return summary


def test_at_the_booking_summary_only_the_affirm_option_books(stack: Stack) -> None:
    sender = f"web:{uuid.uuid4().hex}"
    summary = _to_the_summary(stack, sender)
    before = _rows(stack, Appointment)
    assert [b["title"] for b in _buttons(summary)] == ["确认", "修改", "取消"]
    assert all(b["payload"].startswith("/") and "confirm_answer" in b["payload"] for b in _buttons(summary))

    reply = stack.chat(sender, "2")
    assert "预约码" not in _texts(reply) and "请核对预约信息" in _texts(reply), _texts(reply)
    for said in ("修改", "改一下", "不对"):
        reply = stack.chat(sender, said)
        assert "要修改哪一项" in _texts(reply), (said, _texts(reply))
        assert _rows(stack, Appointment) == before
        reply = stack.chat(sender, "修改姓名")
        assert "姓名" in _texts(reply), _texts(reply)
        reply = stack.chat(sender, "王德明")
        assert "请核对预约信息" in _texts(reply), _texts(reply)
    assert _rows(stack, Appointment) == before

    edit = next(b for b in _buttons(reply) if b["title"] == "修改")
    assert "要修改哪一项" in _texts(stack.chat(sender, edit["payload"]))
    stack.chat(sender, "修改手机号")
    reply = stack.chat(sender, PHONE)
    booked = stack.chat(sender, _buttons(reply)[0]["payload"])  # 确认
    assert re.search(r"预约码：[A-Z0-9]{8}", _texts(booked)), _texts(booked)
    assert _rows(stack, Appointment) == before + 1


def test_cancelling_asks_first_and_a_bare_number_cancels_nothing(stack: Stack) -> None:
    services = stack.services
    today = services.context().today
    day = next(d for d in (today + dt.timedelta(days=n) for n in range(1, 15)) if _open(stack, d))
    booking = services.book(
        BookingRequest(
            hall_id="city",
            service_id="jiehun_dengji",
            start=dt.datetime.combine(day, dt.time(9, 0)),
            name="李秀英",
            id_number=OTHER_ID_NUMBER,
            phone=PHONE,
            sender_id="web:window",
        )
    )
    sender = f"web:{uuid.uuid4().hex}"
    reply = stack.chat(sender, "我要取消预约")
    assert "预约码" in _texts(reply) and "请核对" not in _texts(reply) and "只能包含" not in _texts(reply)
    stack.chat(sender, booking.code)
    asked = stack.chat(sender, PHONE)
    assert "确认取消这个预约吗" in _texts(asked) and "结婚登记" in _texts(asked)
    assert [b["title"] for b in _buttons(asked)] == ["确认取消", "不取消"]

    for said in ("2", "改一下"):
        reply = stack.chat(sender, said)
        assert "已取消预约" not in _texts(reply), (said, _texts(reply))
        assert services.booking(booking.code).status is AppointmentStatus.booked
    reply = stack.chat(sender, "不取消")
    assert "已取消预约" not in _texts(reply)
    assert services.booking(booking.code).status is AppointmentStatus.booked

    stack.chat(sender, f"取消预约 {booking.code}")
    asked = stack.chat(sender, PHONE)
    reply = stack.chat(sender, _buttons(asked)[0]["payload"])
    assert f"已取消预约 {booking.code}" in _texts(reply), _texts(reply)
    assert services.booking(booking.code).status is AppointmentStatus.cancelled


def test_an_eligibility_yes_no_question_does_not_take_a_bare_number_as_yes(stack: Stack) -> None:
    sender = f"web:{uuid.uuid4().hex}"
    reply = stack.chat(sender, "我想看看我能不能申请低保")
    assert "户口在遵义市吗" in _texts(reply), _texts(reply)
    reply = stack.chat(sender, "2")
    assert "没听明白“2”" in _texts(reply) and "户口在遵义市吗" in _texts(reply), _texts(reply)
    reply = stack.chat(sender, "是")
    assert "收入" in _texts(reply), _texts(reply)


def test_a_complaint_summary_is_not_filed_on_a_bare_number_or_a_change(stack: Stack) -> None:
    sender = f"web:{uuid.uuid4().hex}"
    before = _rows(stack, Complaint)
    reply = stack.chat(sender, "我要投诉")
    assert "遇到了什么问题" in _texts(reply), _texts(reply)
    stack.chat(sender, "汇川区政务服务中心社保窗口的工作人员态度很差，还让我跑了三趟")
    stack.chat(sender, "跳过")
    summary = stack.chat(sender, "跳过")
    assert "提交" in _texts(summary), _texts(summary)
    for said in ("2", "改一下", "不对"):
        stack.chat(sender, said)
        assert _rows(stack, Complaint) == before, said
