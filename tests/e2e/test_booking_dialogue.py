"""Book a hall appointment through the REST channel, then cancel it by code, with the real Rasa
model, action server and services database."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from services.appointments import BookingRequest
from services.errors import DomainError
from services.facade import Services
from services.models import AppointmentStatus
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

ID_NUMBER = "520302194503010024"
PHONE = "15885211234"
PASSPORT_ID = "putong_huzhao_qianfa"
SLOT_TITLE = re.compile(r"\d\d:\d\d-\d\d:\d\d（剩\d+个）")


def _texts(reply: dict) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


def _buttons(reply: dict) -> list[dict]:
    return [button for message in reply["messages"] for button in message.get("buttons") or []]


def _tap_first(stack: Stack, sender: str, reply: dict, what: str) -> dict:
    buttons = _buttons(reply)
    assert buttons, f"expected {what} buttons, got: {_texts(reply)}"
    return stack.chat(sender, buttons[0]["payload"])


def test_book_then_cancel_by_code(stack: Stack) -> None:
    sender = f"web:{uuid.uuid4().hex}"
    reply = stack.chat(sender, "我想预约办理低保")
    assert "最低生活保障申请" in _texts(reply) and "大厅" in _texts(reply)
    assert "遵义市政务服务中心" in [b["title"] for b in _buttons(reply)]

    reply = stack.chat(sender, '/inform{"hall": "遵义市政务服务中心"}')
    assert "哪天" in _texts(reply)
    reply = _tap_first(stack, sender, reply, "day")
    assert "时段可约" in _texts(reply)
    assert re.fullmatch(r"\d\d:\d\d-\d\d:\d\d（剩\d+个）", _buttons(reply)[0]["title"])
    reply = _tap_first(stack, sender, reply, "slot")
    assert "姓名" in _texts(reply)

    reply = stack.chat(sender, "王德明")
    assert "身份证号" in _texts(reply)
    reply = stack.chat(sender, "520302194503010025")
    assert "校验位" in _texts(reply)
    reply = stack.chat(sender, ID_NUMBER)
    assert "手机号" in _texts(reply)
    summary = stack.chat(sender, PHONE)
    text = _texts(summary)
    assert "请核对预约信息" in text and "158****1234" in text and "520302********0024" in text
    assert ID_NUMBER not in text and PHONE not in text
    assert [b["title"] for b in _buttons(summary)] == ["确认", "修改", "取消"]

    booked = stack.chat(sender, "/affirm")
    match = re.search(r"预约码：([A-Z0-9]{8})", _texts(booked))
    assert match, _texts(booked)
    code = match.group(1)
    assert "遵义市政务服务中心" in _texts(booked) and "请带齐材料" in _texts(booked)
    assert stack.services.booking(code).status is AppointmentStatus.booked

    reply = stack.chat(sender, "取消预约")
    assert "预约码" in _texts(reply)
    reply = stack.chat(sender, code)
    assert "手机号" in _texts(reply)
    reply = stack.chat(sender, "13900000000")
    assert "预约码或手机号不正确" in _texts(reply)
    assert stack.services.booking(code).status is AppointmentStatus.booked

    stack.chat(sender, f"取消预约，预约码 {code}")
    reply = stack.chat(sender, PHONE)
    assert "确认取消这个预约吗" in _texts(reply) and "最低生活保障申请" in _texts(reply)
    assert stack.services.booking(code).status is AppointmentStatus.booked
    reply = stack.chat(sender, _buttons(reply)[0]["payload"])
    assert f"已取消预约 {code}" in _texts(reply)
    assert stack.services.booking(code).status is AppointmentStatus.cancelled


def test_reschedule_by_code_to_another_slot(stack: Stack) -> None:
    services = stack.services
    today = services.context().today
    day = next(
        today + dt.timedelta(days=n) for n in range(1, 15) if _open(services, today + dt.timedelta(days=n))
    )
    booking = services.book(
        BookingRequest(
            hall_id="city",
            service_id="jiehun_dengji",
            start=dt.datetime.combine(day, dt.time(9, 0)),
            name="李秀英",
            id_number=ID_NUMBER,
            phone=PHONE,
            sender_id="web:window",
        )
    )
    sender = f"web:{uuid.uuid4().hex}"
    reply = stack.chat(sender, "原来约的时间去不了，帮我改个时间")
    assert "预约码" in _texts(reply)
    reply = stack.chat(sender, booking.code)
    assert "手机号" in _texts(reply)
    reply = stack.chat(sender, PHONE)
    assert "找到您的预约" in _texts(reply) and "哪天" in _texts(reply)
    reply = _tap_first(stack, sender, reply, "day")
    slots = [b for b in _buttons(reply) if not b["payload"].endswith('"09:00"}')]
    reply = stack.chat(sender, slots[-1]["payload"])
    assert "确认吗" in _texts(reply) and services.booking(booking.code).start == booking.start
    reply = stack.chat(sender, "2")  # a bare number moves nothing
    assert services.booking(booking.code).start == booking.start
    reply = stack.chat(sender, '/affirm{"confirm_answer": "yes"}')
    assert "改期成功" in _texts(reply) and booking.code in _texts(reply)
    moved = services.booking(booking.code)
    assert moved.start != booking.start and moved.status is AppointmentStatus.booked


def test_service_hall_and_day_said_up_front_go_straight_to_the_slots(stack: Stack) -> None:
    """我想预约后天去市政务服务中心办护照: neither the hall nor the day is asked again. When 后天
    is closed (a weekend or holiday) the nearest open day is said instead, so that the test does
    not depend on today's weekday."""
    services = stack.services
    today = services.context().today
    horizon = services.settings.booking_horizon_days
    day = next(
        today + dt.timedelta(days=n)
        for n in range(2, horizon + 1)
        if _open(services, today + dt.timedelta(days=n), PASSPORT_ID)
    )
    when = "后天" if day == today + dt.timedelta(days=2) else f"{day.month}月{day.day}日"
    sender = f"web:{uuid.uuid4().hex}"

    reply = stack.chat(sender, f"我想预约{when}去市政务服务中心办护照")
    text = _texts(reply)
    assert "没有找到" not in text and "大厅" not in text and "哪天" not in text, text
    assert f"{day.month}月{day.day}日" in text and "时段可约" in text, text
    assert SLOT_TITLE.fullmatch(_buttons(reply)[0]["title"]), text

    reply = _tap_first(stack, sender, reply, "slot")
    assert "姓名" in _texts(reply)
    stack.chat(sender, "王德明")
    stack.chat(sender, ID_NUMBER)
    summary = _texts(stack.chat(sender, PHONE))
    assert "事项：普通护照签发" in summary and "大厅：遵义市政务服务中心" in summary, summary
    assert f"{day.month}月{day.day}日" in summary

    booked = stack.chat(sender, "/affirm")
    match = re.search(r"预约码：([A-Z0-9]{8})", _texts(booked))
    assert match, _texts(booked)
    booking = services.booking(match.group(1))
    assert (booking.hall_id, booking.service_id, booking.start.date()) == ("city", PASSPORT_ID, day)


def test_a_hall_named_the_way_residents_say_it(stack: Stack) -> None:
    sender = f"web:{uuid.uuid4().hex}"
    reply = stack.chat(sender, "我想预约办护照")
    assert "普通护照签发" in _texts(reply) and "大厅" in _texts(reply)
    reply = stack.chat(sender, "汇川的政务大厅")
    assert "没有找到" not in _texts(reply) and "哪天" in _texts(reply), _texts(reply)
    assert _buttons(reply)[0]["payload"].startswith('/inform{"date"')


def _open(services: Services, day: dt.date, service_id: str = "jiehun_dengji") -> bool:
    try:
        return any(slot.remaining for slot in services.free_slots("city", service_id, day))
    except DomainError:
        return False
