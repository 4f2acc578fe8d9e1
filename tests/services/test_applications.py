from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from svc_support import NOW, OTHER, PERSON, Clock, audited_as, count_rows, submit_application

from services.applications import ApplicationRequest, ApplicationView
from services.errors import DomainError, InvalidInput, InvalidTransition, RateLimited
from services.facade import Services
from services.models import Application, AppStatus, AuditRecord


def test_new_application_gets_a_dated_number_and_the_first_stage(svc: Services) -> None:
    view = submit_application(svc, "getigongshanghu_sheli")
    assert re.fullmatch(r"ZW20261126\d{4}", view.number)
    assert view.status is AppStatus.submitted and view.status_label == "申请"
    assert [step.label for step in view.timeline] == ["申请"]
    assert view.id_masked == "110105********002X" and view.phone_masked == "158****9119"
    assert view.applicant == "张*"
    assert view.promised_date is None  # the clock starts at acceptance
    second = submit_application(svc, "getigongshanghu_sheli", OTHER)
    assert int(second.number[-4:]) == int(view.number[-4:]) + 1


def test_timeline_follows_the_plan_with_time_and_handler(svc: Services, clock: Clock) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    steps = [
        (AppStatus.accepted, "二楼 市场准入窗口"),
        (AppStatus.reviewing, "登记科审核岗"),
        (AppStatus.decided, "分管负责人"),
        (AppStatus.completed, "窗口送达"),
    ]
    for hours, (status, handler) in enumerate(steps, start=1):
        clock.now = NOW + dt.timedelta(hours=hours)
        view = svc.advance_application(number, status, handler=handler)
    assert [s.label for s in view.timeline] == ["申请", "受理", "审查", "决定", "办结（已送达）"]
    assert [s.handler for s in view.timeline][1:] == [handler for _, handler in steps]
    assert [s.at for s in view.timeline] == [NOW + dt.timedelta(hours=h) for h in range(5)]
    # Promise of 3 working days from Thursday 26 November (acceptance day not counted): Tuesday 1 December.
    assert view.promised_date == dt.date(2026, 12, 1)
    assert view.finished_at == NOW + dt.timedelta(hours=4)


def test_correction_lists_the_missing_materials_then_acceptance_restarts_the_clock(
    svc: Services, clock: Clock
) -> None:
    number = submit_application(svc, "gongzufang_shenqing").number
    view = svc.advance_application(
        number, AppStatus.needs_correction, handler="住房保障窗口", missing_materials=["收入证明", "户口簿"]
    )
    assert view.status_label == "需补正"
    assert view.missing_materials == ["收入证明", "户口簿"]
    assert view.timeline[-1].missing_materials == ["收入证明", "户口簿"]
    clock.now = dt.datetime(2026, 11, 30, 9, 30)
    view = svc.advance_application(number, AppStatus.accepted, handler="住房保障窗口")
    assert view.missing_materials is None
    assert view.promised_date == dt.date(2026, 12, 28)  # 20 working days after Monday 30 November


def test_refusal_and_withdrawal_carry_their_reason(svc: Services) -> None:
    refused = submit_application(svc, "getigongshanghu_sheli").number
    view = svc.advance_application(
        refused, AppStatus.rejected, handler="综合窗口", reason="经营场所不在本辖区"
    )
    assert (view.status_label, view.reason) == ("不予受理", "经营场所不在本辖区")
    withdrawn = submit_application(svc, "getigongshanghu_sheli", OTHER).number
    svc.advance_application(withdrawn, AppStatus.accepted, handler="综合窗口")
    view = svc.advance_application(
        withdrawn, AppStatus.withdrawn, handler="综合窗口", reason="申请人主动撤回"
    )
    assert view.status_label == "已撤回" and view.finished_at is not None


def test_steps_outside_the_plan_are_refused(svc: Services) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    with pytest.raises(InvalidTransition, match="不能变更为“办结"):
        svc.advance_application(number, AppStatus.completed, handler="x")
    with pytest.raises(InvalidInput, match="不予受理理由"):
        svc.advance_application(number, AppStatus.rejected, handler="x")
    with pytest.raises(InvalidInput, match="须列出"):
        svc.advance_application(number, AppStatus.needs_correction, handler="x", missing_materials=[])


def test_lookup_with_id_tail_or_phone_shows_the_application(svc: Services) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    by_tail = svc.lookup_application(number, "31002x", "web:alice")
    by_phone = svc.lookup_application(number.lower(), "158 0000 9119", "web:alice")
    assert isinstance(by_tail, ApplicationView) and isinstance(by_phone, ApplicationView)
    assert by_tail.number == by_phone.number == number


def test_wrong_proof_and_unknown_number_get_the_same_answer(svc: Services) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    assert svc.lookup_application(number, "123456", "web:mallory") is None
    assert svc.lookup_application(number, OTHER["phone"], "web:mallory") is None
    assert svc.lookup_application("ZW202611269999", "31002X", "web:mallory") is None


def test_every_lookup_is_audited_without_personal_data(svc: Services) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    svc.lookup_application(number, "31002X", "web:alice")
    svc.lookup_application(number, "000000", "web:bob")
    records = svc.audit_log(reader="auditor", action="application.lookup")
    # Residents by the pseudonym their log lines carry: a sender id would open their inbox.
    assert [(r.actor, r.target, r.result) for r in records] == [
        (audited_as(svc, "web:bob"), number, "no_match"),
        (audited_as(svc, "web:alice"), number, "found"),
    ]
    assert all(r.at == NOW for r in records)
    assert "31002X" not in str([r.model_dump() for r in records])


def test_lookups_are_rate_limited_per_sender_and_the_refusal_is_audited(svc: Services) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    for _ in range(5):
        svc.lookup_application(number, "000000", "wechat:o1")
    with pytest.raises(RateLimited, match="查询过于频繁") as caught:
        svc.lookup_application(number, "31002X", "wechat:o1")
    assert 0 < caught.value.retry_after <= 600
    assert svc.audit_log(reader="auditor", limit=1)[0].result == "rate_limited"
    assert svc.lookup_application(number, "31002X", "wechat:o2") is not None  # other senders unaffected


def test_rate_limit_window_resets(svc: Services, clock: Clock) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    for _ in range(5):
        svc.lookup_application(number, "31002X", "web:a")
    with pytest.raises(RateLimited):
        svc.lookup_application(number, "31002X", "web:a")
    clock.now = NOW + dt.timedelta(minutes=11)
    assert svc.lookup_application(number, "31002X", "web:a") is not None


def test_guessing_one_number_from_many_senders_locks_that_number(svc: Services) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    for sender in range(10):
        assert svc.lookup_application(number, f"{sender:06d}", f"web:bot{sender}") is None
    with pytest.raises(RateLimited):
        svc.lookup_application(number, "31002X", "web:owner")
    assert svc.audit_log(reader="auditor", limit=1)[0].result == "number_locked"


@pytest.mark.parametrize(
    ("number", "proof", "field"),
    [
        ("ZW2026' OR '1'='1", "31002X", "number"),
        ("1; DROP TABLE applications; --", "31002X", "number"),
        ("ZW202611260001", "' OR 1=1 --", "proof"),
        ("ZW202611260001", "", "proof"),
        ("", "31002X", "number"),
    ],
)
def test_malformed_lookups_are_refused_before_anything_is_written(
    svc: Services, number: str, proof: str, field: str
) -> None:
    submit_application(svc, "getigongshanghu_sheli")
    before = count_rows(svc, AuditRecord), count_rows(svc, Application)
    with pytest.raises(InvalidInput) as caught:
        svc.lookup_application(number, proof, "web:x")
    assert caught.value.field == field
    assert (count_rows(svc, AuditRecord), count_rows(svc, Application)) == before


def test_audit_records_cannot_be_changed_or_deleted(svc: Services) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    svc.lookup_application(number, "31002X", "web:alice")
    with svc.unit() as (session, _ctx):
        for statement in (update(AuditRecord).values(result="tampered"), delete(AuditRecord)):
            with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
                session.execute(statement)
    assert [r.result for r in svc.audit_log(reader="auditor")] == ["found", "submitted"]


def test_identifiers_are_stored_only_hashed_and_masked(svc: Services) -> None:
    submit_application(svc, "getigongshanghu_sheli")
    with svc.unit() as (session, _ctx):
        row = session.scalars(select(Application)).one()
        dumped = " ".join(str(value) for value in session.execute(text("SELECT * FROM applications")).one())
    assert PERSON["id_number"] not in dumped and PERSON["phone"] not in dumped
    assert PERSON["id_number"][-6:] not in dumped
    assert row.id_masked == "110105********002X"


def test_bad_submissions_are_refused_and_write_nothing(svc: Services) -> None:
    bad = [
        {"id_number": "11010519491231002Y"},
        {"phone": "123"},
        {"applicant_name": "Robert'); DROP TABLE applications;--"},
        {"service_id": "no_such_service"},
        {"hall_id": "no_such_hall"},
        {"hall_id": "honghuagang"},  # the hall does not offer this service
    ]
    for change in bad:
        request = ApplicationRequest(
            service_id="getigongshanghu_sheli",
            applicant_name=PERSON["name"],
            id_number=PERSON["id_number"],
            phone=PERSON["phone"],
            hall_id="city",
        ).model_copy(update=change)
        with pytest.raises(DomainError) as caught:
            svc.submit_application(request, handler="窗口")
        assert caught.value.message
    assert count_rows(svc, Application) == 0
