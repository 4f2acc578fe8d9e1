"""A booking and a status check by phone through the real stack, then Rasa's tracker store read
directly: the forms work across turns, yet no whole 身份证号 or mobile number was stored."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from typing import Any

import pytest

from services.applications import ApplicationRequest
from services.models import AppointmentStatus
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

# Numbers no other end-to-end test books with: one active booking per ID and service.
ID_NUMBER = "520302198001010030"
PHONE = "13700001111"
STATUS_PHONE = "13985007788"
WHOLE_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|1[3-9]\d{9})(?![\dXx])")


def _texts(reply: dict) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


def _first_button(reply: dict, what: str) -> str:
    buttons = [button for message in reply["messages"] for button in message.get("buttons") or []]
    assert buttons, f"expected {what} buttons, got: {_texts(reply)}"
    return str(buttons[0]["payload"])


def _strings(value: Any) -> list[str]:
    """Every string stored in an event, but random message ids (hex may hold digit runs)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() if key != "message_id" for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _stored(stack: Stack) -> dict[str, list[str]]:
    """The strings of every stored event, by conversation."""
    assert stack.directory is not None
    with sqlite3.connect(stack.directory / "tracker.db") as db:
        rows = db.execute("SELECT sender_id, data FROM events ORDER BY id").fetchall()
    stored: dict[str, list[str]] = {}
    for sender, data in rows:
        stored.setdefault(sender, []).extend(_strings(json.loads(data)))
    return stored


def test_the_tracker_store_keeps_no_whole_id_or_phone(stack: Stack) -> None:
    sender = f"web:{uuid.uuid4().hex}"
    reply = stack.chat(sender, "我想预约办理低保")
    reply = stack.chat(sender, '/inform{"hall": "遵义市政务服务中心"}')
    reply = stack.chat(sender, _first_button(reply, "day"))
    reply = stack.chat(sender, _first_button(reply, "slot"))
    reply = stack.chat(sender, "王德明")
    assert "身份证号" in _texts(reply)
    assert "手机号" in _texts(stack.chat(sender, ID_NUMBER))
    summary = _texts(stack.chat(sender, PHONE))
    assert "520302********0030" in summary and "137****1111" in summary
    # Booking happens a turn later, from the numbers held for the form, not from the tracker.
    booked = _texts(stack.chat(sender, "/affirm"))
    code = re.search(r"预约码：([A-Z0-9]{8})", booked)
    assert code, booked
    assert stack.services.booking(code.group(1)).status is AppointmentStatus.booked
    stack.services.cancel(code.group(1), PHONE, actor="web:test")  # the seat goes back for other tests

    application = stack.services.submit_application(
        ApplicationRequest(
            service_id="gaoling_butie",
            applicant_name="王德明",
            id_number=ID_NUMBER,
            phone=STATUS_PHONE,
            channel="window",
            hall_id="city",
        ),
        handler="窗口",
    )
    assert "办件编号" in _texts(stack.chat(sender, "帮我查下办件进度"))
    assert "手机号" in _texts(stack.chat(sender, application.number))
    found = _texts(stack.chat(sender, STATUS_PHONE))
    assert application.number in found and "高龄补贴申领" in found

    stored = _stored(stack)
    mine = "\n".join(stored[sender])
    assert "520302********0030" in mine and "137****1111" in mine  # what was said, masked
    for number in (ID_NUMBER, PHONE, STATUS_PHONE):
        assert number not in mine
    # Nor any other conversation of this test session.
    leaks = {s: WHOLE_NUMBER.findall("\n".join(texts)) for s, texts in stored.items()}
    assert not {s: found for s, found in leaks.items() if found}
