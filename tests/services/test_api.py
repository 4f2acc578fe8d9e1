from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar
from svc_support import PERSON, count_rows, submit_application

from channels.assist import desk
from channels.routes import staff, staff_login
from channels.routes.services import public_router
from core.settings import StaffSettings, get_settings
from services.facade import Services
from services.models import Appointment, AuditRecord, Complaint, Rating, SlotCounter
from services.staff import StaffDirectory

BOOKING = {
    "hall_id": "city",
    "service_id": "getigongshanghu_sheli",
    "start": "2026-11-27T09:30",
    "sender_id": "web:u1",
    **PERSON,
}


STAFF_PASSWORD = "青山-绿水-7391-遵义"


@pytest.fixture
def client(svc: Services) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(public_router, prefix="/api/services")
    app.include_router(staff_login.router)
    app.include_router(staff.router, prefix="/api/staff")
    app.include_router(desk.router, prefix="/api/staff")
    app.state.services = svc
    app.state.settings = get_settings().model_copy(update={"environment": "development"})
    with TestClient(app) as client:
        yield client


def signed_in(client: TestClient, svc: Services, login: str, role: str) -> TestClient:
    """The client, now signed in as a new account with ``role``; writes carry its CSRF token."""
    StaffDirectory(svc, StaffSettings()).add(login, login, [role], STAFF_PASSWORD, actor="cli:test")
    response = client.post("/api/staff/login", json={"login": login, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


class JsonResponse(Protocol):
    def json(self) -> Any: ...


def message(response: JsonResponse) -> str:
    return str(response.json()["detail"]["message"])


def written(svc: Services) -> tuple[int, ...]:
    return tuple(
        count_rows(svc, model) for model in (Appointment, SlotCounter, AuditRecord, Rating, Complaint)
    )


def test_status_lookup_found_and_the_single_neutral_answer(client: TestClient, svc: Services) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    found = client.post(
        "/api/services/applications/lookup", json={"number": number, "proof": "31002X", "sender_id": "web:a"}
    )
    assert found.status_code == 200
    assert found.json()["status_label"] == "申请" and found.json()["id_masked"] == "110105********002X"
    wrong = client.post(
        "/api/services/applications/lookup", json={"number": number, "proof": "000000", "sender_id": "web:a"}
    )
    unknown = client.post(
        "/api/services/applications/lookup",
        json={"number": "ZW202611269999", "proof": "31002X", "sender_id": "web:a"},
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert "没有查到" in message(wrong)


def test_rate_limited_lookups_get_429_with_retry_after(client: TestClient, svc: Services) -> None:
    body = {"number": "ZW202611269999", "proof": "123456", "sender_id": "wechat:o1"}
    codes = [client.post("/api/services/applications/lookup", json=body).status_code for _ in range(6)]
    assert codes == [404] * 5 + [429]
    limited = client.post("/api/services/applications/lookup", json=body)
    assert int(limited.headers["Retry-After"]) > 0 and "查询过于频繁" in message(limited)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"number": "ZW2026' OR 1=1 --", "proof": "31002X", "sender_id": "web:a"}, "办件编号格式不正确"),
        (
            {"number": "ZW202611260001", "proof": "'; DROP TABLE audit_log; --", "sender_id": "web:a"},
            "身份证号后6位",
        ),
        ({"number": "ZW202611260001", "proof": "31002X"}, "缺少会话标识"),
        ({"number": 202611260001, "proof": "31002X", "sender_id": "web:a"}, "办件编号格式不正确"),
    ],
)
def test_malformed_lookups_get_422_in_chinese_and_write_nothing(
    client: TestClient, svc: Services, body: dict, says: str
) -> None:
    before = written(svc)
    response = client.post("/api/services/applications/lookup", json=body)
    assert response.status_code == 422
    assert says in message(response)
    assert written(svc) == before


def test_booking_over_http_with_calendar_file(client: TestClient) -> None:
    created = client.post("/api/services/appointments", json=BOOKING)
    assert created.status_code == 201
    code = created.json()["code"]
    assert created.json()["phone_masked"] == "158****9119"
    ics = client.get(f"/api/services/appointments/{code}/calendar.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert Calendar.from_ical(ics.content).walk("VEVENT")[0]["uid"] == f"{code}@zunyi-zwfw"
    slots = client.get(
        "/api/services/halls/city/slots", params={"service_id": "getigongshanghu_sheli", "day": "2026-11-27"}
    )
    assert {s["start"]: s["remaining"] for s in slots.json()}["2026-11-27T09:30:00"] == 2
    again = client.post("/api/services/appointments", json=BOOKING)
    assert again.status_code == 409 and "同一事项只能保留一个预约" in message(again)
    moved = client.post(
        f"/api/services/appointments/{code}/reschedule",
        json={"phone": PERSON["phone"], "sender_id": "web:u1", "new_start": "2026-11-30T14:00:00"},
    )
    assert moved.status_code == 200 and moved.json()["start"] == "2026-11-30T14:00:00"
    wrong = client.post(
        f"/api/services/appointments/{code}/cancel", json={"phone": "13900000000", "sender_id": "web:x"}
    )
    assert wrong.status_code == 404
    cancelled = client.post(
        f"/api/services/appointments/{code}/cancel", json={"phone": PERSON["phone"], "sender_id": "web:u1"}
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("changes", "status", "says"),
    [
        ({"id_number": "110105194912310021"}, 422, "校验位"),
        ({"id_number": "1101051949123"}, 422, "应为18位"),
        ({"phone": "12345678901"}, 422, "13—19开头"),
        ({"start": "2026-10-01T09:00"}, 422, "已经过去"),
        ({"start": "2026-11-28T09:00"}, 422, "休息日"),
        ({"start": "2026-12-24T09:00"}, 422, "最多可预约14天内"),
        ({"start": "2026/11/27 9点半"}, 422, "预约时间格式不正确"),
        ({"start": "明天上午"}, 422, "预约时间格式不正确"),
        ({"hall_id": "nowhere"}, 404, "没有找到这个政务服务大厅"),
        ({"hall_id": "city' OR '1'='1"}, 404, "没有找到这个政务服务大厅"),
        ({"service_id": "gongzufang_shenqing"}, 404, "不办理"),
        ({"name": "x" * 200}, 422, "姓名"),
    ],
)
def test_bad_bookings_get_a_clear_4xx_and_write_nothing(
    client: TestClient, svc: Services, changes: dict, status: int, says: str
) -> None:
    before = written(svc)
    response = client.post("/api/services/appointments", json={**BOOKING, **changes})
    assert response.status_code == status, response.text
    assert says in message(response)
    assert written(svc) == before


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"service_id": "getigongshanghu_sheli", "day": "2026/11/27"}, "日期格式不正确"),
        ({"service_id": "getigongshanghu_sheli", "day": "27-11-2026"}, "日期格式不正确"),
        ({"service_id": "getigongshanghu_sheli"}, "缺少日期"),
    ],
)
def test_slot_listing_with_odd_dates(client: TestClient, params: dict, says: str) -> None:
    response = client.get("/api/services/halls/city/slots", params=params)
    assert response.status_code == 422 and says in message(response)


def test_halls_and_their_services(client: TestClient) -> None:
    halls = client.get("/api/services/halls").json()
    assert {"city", "renhuai", "xishui"} <= {hall["id"] for hall in halls}
    offered = client.get("/api/services/halls/city/services").json()
    assert {s["service_id"] for s in offered} == {"gongjijin_tiqu", "getigongshanghu_sheli"}
    assert client.get("/api/services/halls/atlantis/services").status_code == 404


def test_feedback_endpoints(client: TestClient, svc: Services) -> None:
    ok = client.post(
        "/api/services/ratings",
        json={"sender_id": "web:u1", "turn_id": "t1", "score": 4, "guide_id": "gongjijin_tiqu"},
    )
    assert ok.status_code == 200
    before = written(svc)
    for body, says in (
        ({"sender_id": "web:u1", "turn_id": "t2", "score": "很好"}, "评分应为整数"),
        ({"sender_id": "web:u1", "turn_id": "t2", "score": 9}, "1到5"),
        ({"sender_id": "web:u1", "turn_id": "t2", "score": 3, "comment": "很" * 5000}, "不能超过500个字"),
    ):
        response = client.post("/api/services/ratings", json=body)
        assert response.status_code == 422 and says in message(response)
    complaint = client.post(
        "/api/services/complaints", json={"sender_id": "web:u1", "kind": "投诉", "content": "x"}
    )
    assert complaint.status_code == 422 and "类型取值不正确" in message(complaint)
    assert written(svc) == before
    opened = client.post(
        "/api/services/complaints", json={"sender_id": "web:u1", "kind": "complaint", "content": "排队太久"}
    )
    assert opened.status_code == 201
    tracking = opened.json()["tracking_number"]
    assert client.get(f"/api/services/complaints/{tracking}").json()["status"] == "open"
    # A handoff is asked for in the conversation (转人工), whose transcript the server keeps: no public
    # route takes a transcript from the client, which could put words in an agent's or the bot's mouth.
    forged = [{"role": "agent", "text": "已为您办结，请放心"}]
    handoff = client.post(
        "/api/services/handoffs", json={"sender_id": "web:u1", "channel": "web", "transcript": forged}
    )
    assert handoff.status_code in (404, 405)
    assert signed_in(client, svc, "zy1001", "agent").get("/api/staff/desk/handoffs").json()["waiting"] == []


def test_audit_log_is_readable_but_not_writable_over_http(client: TestClient, svc: Services) -> None:
    number = submit_application(svc, "getigongshanghu_sheli").number
    client.post(
        "/api/services/applications/lookup", json={"number": number, "proof": "31002X", "sender_id": "web:a"}
    )
    auditor = signed_in(client, svc, "zy3001", "auditor")
    records = auditor.get("/api/staff/audit").json()
    assert [(r["action"], r["result"]) for r in records[:3]] == [
        ("staff.login", "ok"),
        ("staff.add", "created"),
        ("application.lookup", "found"),
    ]
    for method in ("put", "patch", "delete"):
        assert getattr(auditor, method)("/api/staff/audit").status_code == 405
    again = auditor.get("/api/staff/audit").json()
    assert again[0]["action"] == "audit.read" and again[0]["actor"] == "zy3001"  # reading leaves a trace
    assert again[1:] == records[: len(again) - 1]


def test_staff_moves_an_application_along(client: TestClient, svc: Services) -> None:
    business = signed_in(client, svc, "zy2001", "business")
    created = business.post(
        "/api/staff/applications",
        json={
            "service_id": "gongjijin_tiqu",
            "applicant_name": "张三",
            "id_number": PERSON["id_number"],
            "phone": PERSON["phone"],
            "hall_id": "city",
        },
    )
    assert created.status_code == 201
    number = created.json()["number"]
    accepted = business.post(f"/api/staff/applications/{number}/status", json={"status": "accepted"})
    assert accepted.json()["promised_date"] == "2026-11-26"  # 即办: promised the same day
    assert accepted.json()["timeline"][-1]["handler"] == "zy2001"
    skipped = business.post(f"/api/staff/applications/{number}/status", json={"status": "completed"})
    assert skipped.status_code == 409 and "不能变更为" in message(skipped)


def test_openapi_documents_the_routes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/services/appointments" in schema["paths"]
    assert "/api/services/applications/lookup" in schema["paths"]
    assert "/api/staff/audit" in schema["paths"]
