from __future__ import annotations

import datetime as dt
import re

import pytest
from svc_support import count_rows

from services.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from services.facade import Services
from services.feedback import ComplaintRequest, HandoffRequest, RatingRequest, TranscriptMessage
from services.handoff_desk import desk_hours
from services.models import Complaint, ComplaintKind, Handoff, HandoffStatus, Rating, TicketStatus


def rating(**changes: object) -> RatingRequest:
    values: dict[str, object] = {
        "sender_id": "web:u1",
        "turn_id": "t-1",
        "score": 5,
        "guide_id": "gongjijin_tiqu",
    }
    values.update(changes)
    return RatingRequest.model_validate(values)


def test_a_rating_is_tied_to_the_turn_and_guide_and_can_be_changed(svc: Services) -> None:
    first = svc.rate(rating(comment="材料清单很清楚"))
    assert (first.turn_id, first.guide_id, first.score, first.comment) == (
        "t-1",
        "gongjijin_tiqu",
        5,
        "材料清单很清楚",
    )
    changed = svc.rate(rating(score=2, comment="电话打不通"))
    assert changed.score == 2
    assert count_rows(svc, Rating) == 1


@pytest.mark.parametrize(
    ("changes", "error", "says"),
    [
        ({"score": 0}, InvalidInput, "1到5"),
        ({"score": 6}, InvalidInput, "1到5"),
        ({"comment": "好" * 501}, InvalidInput, "不能超过500个字"),
        ({"guide_id": "no_such_guide"}, NotFound, "没有找到这个事项"),
        ({"guide_id": "x' OR '1'='1"}, NotFound, "没有找到这个事项"),
        ({"turn_id": ""}, InvalidInput, "对话轮次编号"),
        ({"sender_id": "web:u1; DROP TABLE ratings"}, InvalidInput, "sender_id"),
    ],
)
def test_bad_ratings_are_refused_and_write_nothing(
    svc: Services, changes: dict, error: type, says: str
) -> None:
    with pytest.raises(error, match=re.escape(says)):
        svc.rate(rating(**changes))
    assert count_rows(svc, Rating) == 0


def test_personal_data_in_comments_is_masked(svc: Services) -> None:
    view = svc.rate(rating(comment="我电话15800009119，身份证11010519491231002X"))
    assert view.comment == "我电话158****9119，身份证110105********002X"


def test_a_complaint_gets_a_tracking_number_and_a_status(svc: Services) -> None:
    opened = svc.open_complaint(
        ComplaintRequest(
            sender_id="wechat:o1",
            kind=ComplaintKind.correction,
            content="指南中的咨询电话已停用",
            guide_id="gongjijin_tiqu",
            contact_phone="15800009119",
        )
    )
    assert re.fullmatch(r"TS20261126\d{4}", opened.tracking_number)
    assert (opened.kind_label, opened.status_label) == ("曝光纠错", "已登记，待处理")
    assert svc.complaint_status(opened.tracking_number.lower()).status is TicketStatus.open
    svc.update_complaint(opened.tracking_number, TicketStatus.processing, actor="staff:li")
    done = svc.update_complaint(
        opened.tracking_number, TicketStatus.resolved, actor="staff:li", resolution="已更新电话"
    )
    assert done.status_label == "已办结"
    with pytest.raises(InvalidTransition):
        svc.update_complaint(opened.tracking_number, TicketStatus.open, actor="staff:li")
    assert [r.action for r in svc.audit_log()][:3] == [
        "complaint.update",
        "complaint.update",
        "complaint.open",
    ]


def test_bad_complaints_write_nothing(svc: Services) -> None:
    for changes in (
        {"content": ""},
        {"content": "长" * 2001},
        {"contact_phone": "12345"},
        {"guide_id": "nope"},
    ):
        values = {"sender_id": "web:u1", "kind": "complaint", "content": "窗口态度差", **changes}
        with pytest.raises((InvalidInput, NotFound)):
            svc.open_complaint(ComplaintRequest.model_validate(values))
    assert count_rows(svc, Complaint) == 0
    with pytest.raises(NotFound):
        svc.complaint_status("TS202611269999")


def transcript(*texts: str) -> list[TranscriptMessage]:
    return [TranscriptMessage(role="user" if i % 2 == 0 else "bot", text=t) for i, t in enumerate(texts)]


def test_handoff_queues_the_conversation_with_a_masked_transcript(svc: Services) -> None:
    ticket = svc.open_handoff(
        HandoffRequest(
            sender_id="web:u9",
            channel="web",
            reason="用户要求人工",
            transcript=transcript("我的公积金怎么还没到账", "请提供办件编号", "我手机15800009119"),
        )
    )
    assert ticket.status is HandoffStatus.waiting and ticket.channel == "web"
    assert [m.text for m in ticket.transcript][-1] == "我手机158****9119"
    again = svc.open_handoff(
        HandoffRequest(sender_id="web:u9", channel="web", transcript=transcript("还在吗"))
    )
    assert again.ticket == ticket.ticket and len(again.transcript) == 4
    assert [h.ticket for h in svc.waiting_handoffs()] == [ticket.ticket]
    claimed = svc.claim_handoff(ticket.ticket, agent="客服小王")
    assert (claimed.status, claimed.agent) == (HandoffStatus.claimed, "客服小王")
    with pytest.raises(Conflict):
        svc.claim_handoff(ticket.ticket, agent="客服小李")
    assert svc.waiting_handoffs() == []
    assert svc.close_handoff(ticket.ticket, agent="客服小王").status is HandoffStatus.closed


def test_oversized_transcripts_are_refused(svc: Services) -> None:
    with pytest.raises(InvalidInput, match="200条"):
        svc.open_handoff(
            HandoffRequest(sender_id="web:u9", channel="web", transcript=transcript(*["嗯"] * 201))
        )
    with pytest.raises(InvalidInput, match="总长度"):
        svc.open_handoff(
            HandoffRequest(sender_id="web:u9", channel="web", transcript=transcript("长" * 20_001))
        )
    assert count_rows(svc, Handoff) == 0


def _handoff(svc: Services, sender: str) -> str:
    request = HandoffRequest(sender_id=sender, channel="web", transcript=[], reason="转人工")
    return svc.open_handoff(request).ticket


def test_waiting_residents_see_their_place_in_the_queue_and_can_stop_waiting(svc: Services) -> None:
    first, second = _handoff(svc, "web:q1"), _handoff(svc, "web:q2")
    waiting = svc.waiting("web:q2")
    assert waiting is not None and waiting.handoff.ticket == second and waiting.position == 2
    relayed = svc.relay_to_agent("web:q2", "还要等好久")
    assert relayed is not None and relayed.handoff.transcript[-1].text == "还要等好久"

    withdrawn = svc.withdraw_handoff("web:q1")
    assert withdrawn is not None and withdrawn.ticket == first and withdrawn.status is HandoffStatus.closed
    assert svc.waiting("web:q2").position == 1  # type: ignore[union-attr]
    assert svc.withdraw_handoff("web:q1") is None
    actions = [record.action for record in svc.audit_log(target=first)]
    assert "handoff.withdraw" in actions


@pytest.mark.parametrize(
    ("now", "open_now", "says"),
    [
        ("2026-11-27 10:30", True, "工作日 9:00—17:00"),  # Friday morning
        ("2026-11-29 19:40", False, "11月30日 9:00"),  # Sunday evening → Monday
        ("2026-11-30 08:10", False, "今天 9:00"),  # Monday before opening
        ("2026-10-03 11:00", False, "10月8日 9:00"),  # 国庆 holiday: the first working day after it
    ],
)
def test_the_desk_hours_say_when_a_person_will_answer(now: str, open_now: bool, says: str) -> None:
    hours = desk_hours(dt.datetime.fromisoformat(now))
    assert hours.open_now is open_now
    assert says in hours.text
