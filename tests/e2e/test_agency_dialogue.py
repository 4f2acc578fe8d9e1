"""A free 代办 request through the REST channel with the real Rasa model, action server and
services database: the request is opened only after 确认, and its state is then asked by
代办编号 + phone."""

from __future__ import annotations

import re
import uuid

import pytest

from services.agency import NEUTRAL_ANSWER
from services.models import AgencyStatus
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

NAME = "王德明"
PHONE = "15885211234"
NUMBER = re.compile(r"代办编号：(DB\d{12})")


def _texts(reply: dict) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


def _buttons(reply: dict) -> dict[str, str]:
    return {b["title"]: b["payload"] for m in reply["messages"] for b in m.get("buttons") or []}


def test_request_for_a_named_service_then_its_status(stack: Stack) -> None:
    services = stack.services
    before = {request.tracking_number for request in services.agency_requests()}
    sender = f"web:{uuid.uuid4().hex}"

    reply = stack.chat(sender, "残疾人证能不能代办")
    text = _texts(reply)
    assert "残疾人证办理" in text and "姓名" in text, text

    reply = stack.chat(sender, NAME)
    assert "手机号" in _texts(reply), _texts(reply)
    reply = stack.chat(sender, "1588521")
    assert "请重新输入手机号" in _texts(reply), _texts(reply)
    reply = stack.chat(sender, PHONE)
    assert "县区" in _texts(reply) and "湄潭县" in _buttons(reply), _texts(reply)
    reply = stack.chat(sender, "北京朝阳")
    assert "不是遵义市的县区" in _texts(reply), _texts(reply)
    reply = stack.chat(sender, _buttons(reply)["湄潭县"])
    assert "乡镇" in _texts(reply), _texts(reply)

    summary = stack.chat(sender, "永兴镇")
    text = _texts(summary)
    assert "请核对代办申请" in text and "残疾人证办理" in text and "湄潭县永兴镇" in text, text
    assert "王*明" in text and "158****1234" in text and NAME not in text and PHONE not in text
    assert list(_buttons(summary)) == ["确认", "修改", "取消"]
    assert {request.tracking_number for request in services.agency_requests()} == before

    opened = stack.chat(sender, _buttons(summary)["确认"])
    text = _texts(opened)
    match = NUMBER.search(text)
    assert match, text
    number = match.group(1)
    assert "158****1234" in text and "查代办进度" in text and PHONE not in text
    request = services.agency_request(number)
    assert (request.service_id, request.district, request.town, request.status) == (
        "canjirenzheng_banli",
        "湄潭县",
        "永兴镇",
        AgencyStatus.received,
    )
    assert request.name_masked == "王*明"

    asker = f"web:{uuid.uuid4().hex}"
    reply = stack.chat(asker, f"查一下代办进度 {number}")
    assert "手机号" in _texts(reply) and "身份证" not in _texts(reply), _texts(reply)
    reply = stack.chat(asker, "13900000000")
    assert NEUTRAL_ANSWER in _texts(reply), _texts(reply)

    services.change_agency_status(number, AgencyStatus.assigned, actor="zy1001", agent="李代办")
    reply = stack.chat(asker, f"查一下代办进度 {number}")
    reply = stack.chat(asker, PHONE)
    text = _texts(reply)
    assert number in text and "已分派代办员" in text and "李代办" not in text, text


def test_stopping_midway_opens_nothing(stack: Stack) -> None:
    services = stack.services
    before = len(services.agency_requests())
    sender = f"web:{uuid.uuid4().hex}"
    reply = stack.chat(sender, "屋头老人走不动 能不能帮我代办")
    assert "哪个事项" in _texts(reply), _texts(reply)
    reply = stack.chat(sender, "高龄补贴")
    assert "「高龄补贴申领」" in _texts(reply) and "姓名" in _texts(reply), _texts(reply)
    reply = stack.chat(sender, "算了")
    assert "没有提交" in _texts(reply), _texts(reply)
    assert len(services.agency_requests()) == before
