"""免费代办 requests on SQLite and PostgreSQL: opening one, the phone-guarded status lookup, the
staff's status flow with its audit rows, and that the full phone and name are nowhere stored."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select
from svc_support import PERSON, TEST_SERVICES, audited_as, count_rows

from core.settings import PROJECT_ROOT
from services.agency import AgencyRequestForm
from services.catalog import Catalog, CatalogService, load_halls
from services.errors import InvalidInput, InvalidTransition, NotFound, RateLimited
from services.facade import Services
from services.models import AgencyRequest, AgencyStatus, AuditRecord

BUNDLES = PROJECT_ROOT / "knowledge" / "bundles"


def form(**changes: object) -> AgencyRequestForm:
    values: dict[str, object] = {
        "sender_id": "web:village-1",
        "name": PERSON["name"],
        "phone": PERSON["phone"],
        "district": "湄潭县",
        "town": "兴隆镇",
        "service_id": "gongjijin_tiqu",
        "note": "老人腿脚不便，电话15800009119",
    }
    values.update(changes)
    return AgencyRequestForm.model_validate(values)


def open_request(svc: Services, **changes: object) -> str:
    return svc.open_agency_request(form(**changes), bundles_dir=BUNDLES).tracking_number


def audit_rows(svc: Services, action: str) -> list[tuple[str, str | None, str]]:
    with svc.unit() as (session, _ctx):
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
        )
        return [(row.actor, row.target, row.result) for row in rows]


def test_an_opened_request_gets_a_tracking_number_and_stores_no_full_phone_or_name(svc: Services) -> None:
    view = svc.open_agency_request(form(), bundles_dir=BUNDLES)
    assert view.tracking_number == "DB202611260001"
    assert (view.status, view.status_label) == (AgencyStatus.received, "已受理，待分派代办员")
    assert (view.subject_name, view.district, view.town) == ("住房公积金提取", "湄潭县", "兴隆镇")
    assert not view.agent_assigned
    assert open_request(svc) == "DB202611260002"
    assert audit_rows(svc, "agency.open")[0] == (
        audited_as(svc, "web:village-1"),
        "DB202611260001",
        "received",
    )
    with svc.unit() as (session, _ctx):
        row = session.scalars(select(AgencyRequest).order_by(AgencyRequest.id)).first()
        assert row is not None
        stored = " ".join(str(getattr(row, c.key)) for c in AgencyRequest.__table__.columns)
    assert PERSON["phone"] not in stored and PERSON["name"] not in stored
    assert row.phone_masked == "158****9119" and row.name_masked == "张*"
    assert row.note == "老人腿脚不便，电话158****9119"


def test_a_request_for_a_life_event_bundle_names_the_bundle(svc: Services) -> None:
    bundle = yaml.safe_load((BUNDLES / "kaiban_canyindian.yaml").read_text(encoding="utf-8"))
    members = {step["guide"] for step in bundle["steps"]}
    extra = tuple(CatalogService(guide, f"测试事项{guide}", 5, 20, ()) for guide in sorted(members))
    known = {service.id for service in TEST_SERVICES}
    services = TEST_SERVICES + tuple(service for service in extra if service.id not in known)
    svc.sync_catalog(Catalog(load_halls(PROJECT_ROOT / "knowledge" / "halls.yaml"), services))

    number = open_request(svc, service_id=None, bundle_id="kaiban_canyindian")
    staff = svc.agency_request(number)
    assert (staff.bundle_id, staff.service_id, staff.subject_name) == (
        "kaiban_canyindian",
        None,
        bundle["name"],
    )
    with pytest.raises(NotFound, match="没有找到这件“一件事”"):
        open_request(svc, service_id=None, bundle_id="no_such_event")
    with pytest.raises(InvalidInput, match="二选一"):
        open_request(svc, bundle_id="kaiban_canyindian")
    with pytest.raises(InvalidInput, match="二选一"):
        open_request(svc, service_id=None)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "1580000911"}, "phone", "手机号应为11位，您输入的是10位。"),
        ({"phone": "12800009119"}, "phone", "手机号应以13—19开头"),
        ({"district": "朝阳区"}, "district", "“朝阳区”不是遵义市的县区，请从以下选择："),
        ({"district": "遵义市"}, "district", "请填写所在县区"),
        ({"district": ""}, "district", "请填写所在县区"),
        ({"town": "  "}, "town", "请填写乡镇或街道。"),
        ({"name": ""}, "name", "请填写姓名。"),
        ({"service_id": "no_such_guide"}, "service_id", None),
    ],
)
def test_bad_fields_are_refused_in_chinese_and_nothing_is_written(
    svc: Services, changes: dict[str, object], field: str, message: str | None
) -> None:
    with pytest.raises((InvalidInput, NotFound)) as refused:
        open_request(svc, **changes)
    assert refused.value.field == field or field == "service_id"
    if message:
        assert message in refused.value.message
    assert count_rows(svc, AgencyRequest) == 0


def test_short_district_names_are_understood(svc: Services) -> None:
    assert svc.agency_request(open_request(svc, district="汇川")).district == "汇川区"
    assert svc.agency_request(open_request(svc, district="道真县")).district == "道真仡佬族苗族自治县"
    assert svc.agency_request(open_request(svc, district="遵义市仁怀市")).district == "仁怀市"


def test_the_status_lookup_needs_the_phone_the_request_was_opened_with(svc: Services) -> None:
    number = open_request(svc)
    found = svc.agency_status(number.lower(), f"+86 {PERSON['phone']}", "web:asker")
    assert (
        found is not None and found.tracking_number == number and found.status_label == "已受理，待分派代办员"
    )
    assert svc.agency_status(number, "13985001234", "web:asker") is None
    assert svc.agency_status("DB202611269999", PERSON["phone"], "web:asker") is None
    with pytest.raises(InvalidInput, match="代办编号格式不正确"):
        svc.agency_status("TS202611260001", PERSON["phone"], "web:asker")
    asker = audited_as(svc, "web:asker")
    assert audit_rows(svc, "agency.lookup") == [
        (asker, number, "found"),
        (asker, number, "no_match"),
        (asker, "DB202611269999", "no_match"),
    ]


def test_lookups_are_rate_limited_per_sender_and_per_number(svc: Services) -> None:
    number = open_request(svc)
    for _ in range(svc.settings.lookup_limit_per_sender):
        svc.agency_status(number, "13985001234", "web:guesser")
    with pytest.raises(RateLimited, match="查询过于频繁"):
        svc.agency_status(number, PERSON["phone"], "web:guesser")
    # Many senders guessing the phone of one number: the number locks, even for the right phone.
    for index in range(svc.settings.lookup_failures_per_number - svc.settings.lookup_limit_per_sender):
        svc.agency_status(number, "13985001234", f"web:other-{index}")
    with pytest.raises(RateLimited):
        svc.agency_status(number, PERSON["phone"], "web:owner")
    results = [result for _actor, _target, result in audit_rows(svc, "agency.lookup")]
    assert results.count("rate_limited") == 1 and results[-1] == "number_locked"


def test_staff_move_a_request_along_and_every_step_is_audited(svc: Services) -> None:
    number = open_request(svc)
    with pytest.raises(InvalidTransition, match="当前为“已受理，待分派代办员”，不能改为“代办中”"):
        svc.change_agency_status(number, AgencyStatus.in_progress, actor="zy1001")
    with pytest.raises(InvalidInput, match="请填写代办员姓名"):
        svc.change_agency_status(number, AgencyStatus.assigned, actor="zy1001")
    assigned = svc.change_agency_status(
        number, AgencyStatus.assigned, actor="zy1001", agent="兴隆镇代办员刘梅"
    )
    assert (assigned.agent, assigned.status_label) == ("兴隆镇代办员刘梅", "已分派代办员")
    svc.change_agency_status(number, AgencyStatus.assigned, actor="zy2001", agent="村代办员王强")
    svc.change_agency_status(number, AgencyStatus.in_progress, actor="zy2001", note="材料已收齐")
    done = svc.change_agency_status(number, AgencyStatus.done, actor="zy2001")
    assert (done.status_label, done.agent, done.staff_note) == ("已办结", "村代办员王强", "材料已收齐")
    with pytest.raises(InvalidTransition):
        svc.change_agency_status(number, AgencyStatus.cancelled, actor="zy2001", note="重复")
    assert audit_rows(svc, "agency.status") == [
        ("zy1001", number, "assigned"),
        ("zy2001", number, "assigned"),
        ("zy2001", number, "in_progress"),
        ("zy2001", number, "done"),
    ]
    seen = svc.agency_status(number, PERSON["phone"], "web:village-1")
    assert seen is not None and seen.status_label == "已办结" and seen.agent_assigned


def test_cancelling_needs_a_reason(svc: Services) -> None:
    number = open_request(svc)
    with pytest.raises(InvalidInput, match="写明原因"):
        svc.change_agency_status(number, AgencyStatus.cancelled, actor="zy1001")
    cancelled = svc.change_agency_status(
        number, AgencyStatus.cancelled, actor="zy1001", note="群众已自行办理"
    )
    assert cancelled.status_label == "已取消" and cancelled.staff_note == "群众已自行办理"


def test_staff_list_newest_first_filtered_by_status_and_district(svc: Services) -> None:
    first = open_request(svc, district="湄潭县")
    second = open_request(svc, district="汇川区")
    third = open_request(svc, district="湄潭")
    svc.change_agency_status(third, AgencyStatus.assigned, actor="zy1001", agent="刘梅")
    assert [r.tracking_number for r in svc.agency_requests()] == [third, second, first]
    assert [r.tracking_number for r in svc.agency_requests(district="湄潭")] == [third, first]
    received = svc.agency_requests(status=AgencyStatus.received, district="湄潭县")
    assert [r.tracking_number for r in received] == [first]
    assert received[0].phone_masked == "158****9119"
    with pytest.raises(NotFound):
        svc.agency_request("DB202611269999")


def test_staff_can_see_the_whole_phone_to_call_back_while_the_request_is_open(svc: Services) -> None:
    number = open_request(svc)
    assert svc.reveal_agency_phone(number, actor="zy1001") == PERSON["phone"]
    assert audit_rows(svc, "agency.phone_revealed") == [("zy1001", number, "shown")]
    with svc.unit() as (session, _ctx):
        row = session.scalars(select(AgencyRequest).where(AgencyRequest.tracking_number == number)).one()
        assert row.phone_sealed and PERSON["phone"] not in row.phone_sealed

    svc.change_agency_status(number, AgencyStatus.cancelled, actor="zy1001", note="重复申请")
    with pytest.raises(NotFound, match="已结束"):
        svc.reveal_agency_phone(number, actor="zy1001")
    with svc.unit() as (session, _ctx):
        row = session.scalars(select(AgencyRequest).where(AgencyRequest.tracking_number == number)).one()
        assert row.phone_sealed is None
    assert len(audit_rows(svc, "agency.phone_revealed")) == 1
