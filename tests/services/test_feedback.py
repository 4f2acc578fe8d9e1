from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from svc_support import count_rows

from services.errors import InvalidInput, InvalidTransition, NotFound
from services.facade import Services
from services.feedback import ComplaintRequest, RatingRequest
from services.log_privacy import pseudonym
from services.models import AnalyticsTurn, Complaint, ComplaintKind, Rating, TicketStatus, TurnKind


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


def test_only_the_resident_who_got_an_answer_can_rate_it(svc: Services) -> None:
    with svc.unit() as (session, ctx):
        session.add(
            AnalyticsTurn(
                turn_id="t-1",
                sender=pseudonym("web:u1", secret=ctx.settings.secret_key),
                channel="web",
                at=ctx.now,
                text="公积金咋个取",
                entities=[],
                kind=TurnKind.answered,
            )
        )
    with pytest.raises(InvalidInput, match="只能评价您自己收到的回答"):
        svc.rate(rating(sender_id="web:someone-else"))
    assert count_rows(svc, Rating) == 0
    assert svc.rate(rating()).score == 5


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
    assert [r.action for r in svc.audit_log(reader="auditor")][:3] == [
        "complaint.update",
        "complaint.update",
        "complaint.open",
    ]


def test_a_complaint_keeps_the_turn_it_is_about(svc: Services) -> None:
    request = {"sender_id": "web:u1", "kind": "complaint", "content": "材料清单不对", "turn_id": "9f3c0a"}
    svc.open_complaint(ComplaintRequest.model_validate(request))
    svc.open_complaint(ComplaintRequest.model_validate({**request, "turn_id": None}))
    with svc.unit() as (session, _ctx):
        assert sorted(session.scalars(select(Complaint.turn_id)), key=str) == ["9f3c0a", None]


def test_bad_complaints_write_nothing(svc: Services) -> None:
    for changes in (
        {"content": ""},
        {"content": "长" * 2001},
        {"contact_phone": "12345"},
        {"guide_id": "nope"},
        {"turn_id": "t" * 65},
    ):
        values = {"sender_id": "web:u1", "kind": "complaint", "content": "窗口态度差", **changes}
        with pytest.raises((InvalidInput, NotFound)):
            svc.open_complaint(ComplaintRequest.model_validate(values))
    assert count_rows(svc, Complaint) == 0
    with pytest.raises(NotFound):
        svc.complaint_status("TS202611269999")
