"""One resident's WeChat conversation in safe mode, end to end: materials and follow-ups, a booking
where "2" (修改) at the summary books nothing, cancelling it, an eligibility check, a one-shot
status query, 转人工 then 结束人工, a complaint and its status, and a benefit amount. Every reply
is read the way the phone shows it (passive reply or customer-service sends) and each part is
checked against the phone-sized budget (answer_parts does)."""

from __future__ import annotations

import re

import pytest

from core.stack import Stack
from services.applications import ApplicationRequest
from services.models import Appointment, AppointmentStatus, Complaint
from tests.e2e.test_wechat_real import FakeWeChatAPI, ask, option_number, resident

pytestmark = pytest.mark.e2e

ID_NUMBER = "520302198507070030"
PHONE = "13985012345"


def _rows(stack: Stack, model: type) -> int:
    with stack.services.unit() as (session, _ctx):
        return session.query(model).count()


def test_a_resident_does_everything_on_wechat(stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]) -> None:
    api = wechat_api[0]
    someone = resident(stack)

    def say(text: str) -> str:
        return ask(stack, someone, api, text)

    # Materials, then follow-ups that lean on the service just answered.
    materials = say("屋头老人满八十了 高龄补贴要带啥子")
    assert "高龄补贴申领" in materials and "身份证" in materials
    assert len([line for line in materials.splitlines() if line.startswith("来源")]) == 1
    amount = say("一个月发好多钱")
    assert "50元" in amount and "收费标准" not in amount
    where = say("在哪点办")
    assert "社会事务窗口" in where

    # Booking: "2" at the summary is 修改 and books nothing; 确认 books.
    before = _rows(stack, Appointment)
    halls = say("我想预约办结婚登记")
    days = say(option_number(halls, "遵义市政务服务中心"))
    assert "哪天" in days
    slots = say("1")
    assert "时段可约" in slots
    assert "姓名" in say("1")
    say("钱德明")
    say(ID_NUMBER)
    summary = say(PHONE)
    assert "请核对预约信息" in summary and option_number(summary, "修改") == "2"
    edit = say("2")
    assert "要修改哪一项" in edit and _rows(stack, Appointment) == before
    assert "手机号" in say(option_number(edit, "手机号"))
    summary = say(PHONE)
    booked = say(option_number(summary, "确认"))
    code = re.search(r"预约码：([A-Z0-9]{8})", booked)
    assert code, booked
    assert _rows(stack, Appointment) == before + 1
    assert "点击" not in booked and "点“" not in booked  # no widget wording on WeChat

    # Cancel it: asked first, then cancelled.
    assert "预约码" in say("取消预约")
    say(code.group(1))
    asked = say(PHONE)
    assert "确认取消这个预约吗" in asked
    cancelled = say(option_number(asked, "确认取消"))
    assert f"已取消预约 {code.group(1)}" in cancelled
    assert stack.services.booking(code.group(1)).status is AppointmentStatus.cancelled

    # Eligibility: a rule asked about is answered; a check about oneself asks.
    rule = say("男的多少岁才能领结婚证")
    assert "22周岁" in rule and "多大年纪" not in rule

    # One-shot status query.
    application = stack.services.submit_application(
        ApplicationRequest(
            service_id="gaoling_butie",
            applicant_name="钱德明",
            id_number=ID_NUMBER,
            phone=PHONE,
            channel="window",
            hall_id="city",
        ),
        handler="窗口",
    )
    status = say(f"查进度 {application.number} 身份证后六位070030")
    assert application.number in status and "当前状态" in status

    # 转人工, a message while waiting, then 结束人工.
    opened = say("转人工")
    assert "工单号" in opened and "结束人工" in opened
    waiting = say("喂 有人没得")
    assert "排队" in waiting
    assert "已结束人工服务" in say("结束人工")
    assert stack.services.waiting(f"wechat:{someone.openid}") is None

    # A complaint, asked about and summarised before filing; then its status by number.
    complaints = _rows(stack, Complaint)
    assert "遇到了什么问题" in say("我要投诉")
    say("汇川区政务服务中心社保窗口的工作人员态度很差，让我跑了三趟")
    say("跳过")
    summary = say("跳过")
    assert "提交" in summary and _rows(stack, Complaint) == complaints
    filed = say(option_number(summary, "提交"))
    number = re.search(r"TS\d{12}", filed)
    assert number, filed
    assert _rows(stack, Complaint) == complaints + 1
    tracked = say(f"{number.group(0)} 这个投诉处理得咋样了")
    assert "当前状态" in tracked and _rows(stack, Complaint) == complaints + 1
