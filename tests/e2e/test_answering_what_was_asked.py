"""Answer the question that was asked: benefit amounts rather than fees, a guide's FAQ, where
to apply by the guide's own rule, one-shot status and complaint queries, and a person who
answers while the resident waits. Real Rasa, action server and services database."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.applications import ApplicationRequest
from services.errors import DomainError
from services.feedback import ComplaintRequest
from services.models import Complaint, ComplaintKind, HandoffStatus
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def _sender() -> str:
    return f"web:{uuid.uuid4().hex}"


def _texts(reply: dict) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


@pytest.mark.parametrize(
    ("question", "amount"),
    [("低保一个月能领好多钱", "800元"), ("低保标准是好多", "500元"), ("高龄补贴一个月发好多钱", "50元")],
)
def test_how_much_a_benefit_pays_gets_the_amount_not_the_fee(
    stack: Stack, question: str, amount: str
) -> None:
    text = _texts(stack.chat(_sender(), question))
    assert amount in text and "待遇标准" in text, text
    assert "收费标准：不收费" not in text


def test_a_follow_up_about_the_amount_leans_on_the_service_just_answered(stack: Stack) -> None:
    sender = _sender()
    stack.chat(sender, "我奶奶今年85了有没有高龄补贴")
    text = _texts(stack.chat(sender, "一个月发好多钱"))
    assert "50元" in text and "100元" in text, text


def test_a_question_a_faq_answers_gets_that_faq(stack: Stack) -> None:
    text = _texts(stack.chat(_sender(), "高龄补贴户口不在遵义能办不"))
    assert "常见问题" in text and "户籍" in text, text


def test_where_to_apply_starts_with_the_guides_own_rule(stack: Stack) -> None:
    text = _texts(stack.chat(_sender(), "低保在哪点办"))
    assert "社会救助窗口" in text, text
    assert text.index("社会救助窗口") < text.index("可以到这些地方办理")


def test_a_status_query_said_in_one_message_is_answered_at_once(stack: Stack) -> None:
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
    text = _texts(stack.chat(_sender(), f"查进度 {application.number} 身份证后六位010024"))
    assert application.number in text and "高龄补贴申领" in text and "当前状态" in text, text

    asked = _texts(stack.chat(_sender(), "我上个月交的申请 办得怎么样了"))
    assert "办件编号" in asked, asked


def test_a_complaint_number_with_a_progress_question_shows_its_state(stack: Stack) -> None:
    before = stack.services.open_complaint(
        ComplaintRequest(
            sender_id="web:someone", kind=ComplaintKind.complaint, content="窗口工作人员让我跑了三趟还没办好"
        )
    )
    sender = _sender()
    text = _texts(stack.chat(sender, f"{before.tracking_number} 这个投诉处理得咋样了"))
    assert before.tracking_number in text and "当前状态" in text, text
    assert "已登记您的投诉" not in text and "发生了什么" not in text


def test_while_waiting_for_a_person_messages_go_on_the_ticket_and_leaving_closes_it(stack: Stack) -> None:
    sender = _sender()
    opened = _texts(stack.chat(sender, "转人工"))
    assert "工单号" in opened and "结束人工" in opened, opened
    ticket = stack.services.waiting(sender)
    assert ticket is not None
    waiting = _texts(stack.chat(sender, "喂 有人没得"))
    assert "排队" in waiting and "您好！我是" not in waiting, waiting
    assert stack.services.handoff(ticket.handoff.ticket).transcript[-1].text == "喂 有人没得"

    left = _texts(stack.chat(sender, "不要人工了"))
    assert "已结束人工服务" in left, left
    assert stack.services.handoff(ticket.handoff.ticket).status is HandoffStatus.closed
    assert stack.services.waiting(sender) is None
    assert "没有在等人工服务" in _texts(stack.chat(sender, "结束人工"))
    assert stack.services.waiting(sender) is None  # no second ticket


def test_booking_keeps_the_service_hall_and_time_said_up_front(stack: Stack) -> None:
    services = stack.services
    tomorrow = services.context().today + dt.timedelta(days=1)
    try:
        open_tomorrow = any(
            slot.start.time() == dt.time(10, 0) and slot.remaining
            for slot in services.free_slots("honghuagang", "shenfenzheng_huanling_buling", tomorrow)
        )
    except DomainError:
        open_tomorrow = False
    text = _texts(stack.chat(_sender(), "想预约办身份证 红花岗的 明天上午10点"))
    assert "哪个事项" not in text and "请选择办理" not in text, text
    if open_tomorrow:
        assert "10:00" in text and "红花岗区政务服务中心" in text and "姓名" in text, text
    else:
        assert "时段可约" in text or "最近" in text, text


def test_asking_after_a_complaint_without_its_number_asks_for_it_and_files_nothing(stack: Stack) -> None:
    with stack.services.unit() as (session, _ctx):
        before = session.query(Complaint).count()
    sender = _sender()
    asked = _texts(stack.chat(sender, "我前天的投诉处理得咋样了"))
    assert "TS" in asked and "登记投诉" not in asked, asked
    helped = _texts(stack.chat(sender, "不记得号码了"))
    assert "12345" in helped and "预约码" not in helped, helped
    with stack.services.unit() as (session, _ctx):
        assert session.query(Complaint).count() == before


def test_an_off_topic_question_gets_no_unrelated_topic_reply(stack: Stack) -> None:
    text = _texts(stack.chat(_sender(), "开小吃店卖什么最赚钱"))
    assert "12345" in text and "股票" not in text and "理财" not in text, text
