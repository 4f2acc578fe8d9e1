"""The 代办 routes on the real gateway, SQLite and PostgreSQL: a resident opens a request and asks
its state with the right phone; 坐席 and 业务 staff list and move it (401 signed out, 403 for other
roles or without the CSRF token); the full phone is nowhere in the database."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))  # staff_support, whatever pytest's import mode

from staff_support import add_account, browser, sign_in

from channels.app import create_app
from core.settings import PROJECT_ROOT, GatewaySettings, ServicesSettings, Settings
from services.catalog import Catalog, CatalogService, load_halls
from services.db import make_engine, make_sessionmaker
from services.facade import Services
from services.models import AgencyRequest, AuditRecord
from services.scratch import DEFAULT_POSTGRES_URL, postgres_database, postgres_problem, sqlite_database

PHONE = "15800009119"
FORM = {
    "sender_id": "web:village-7",
    "name": "张三",
    "phone": PHONE,
    "district": "湄潭县",
    "town": "兴隆镇",
    "service_id": "gongjijin_tiqu",
    "note": "老人行动不便",
}


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def _database(backend: str, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        with sqlite_database(directory) as url:
            yield url
        return
    admin_url = os.environ.get("ZY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    problem = postgres_problem(admin_url)
    if problem:
        if os.environ.get("ZY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{problem} (ZY_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(f"PostgreSQL variant skipped: {problem}")
    with postgres_database(admin_url) as url:
        yield url


@pytest.fixture(
    scope="module", params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with _database(request.param, tmp_path_factory.mktemp("agency-routes")) as url:
        settings = Settings(
            environment="development",
            services=ServicesSettings(database_url=url),
            gateway=GatewaySettings(rasa_url=_dead_url(), rasa_timeout_seconds=1),
        )
        engine = make_engine(url)
        services = Services(
            make_sessionmaker(engine), settings.services, clock=lambda: dt.datetime(2026, 11, 30, 10, 0)
        )
        halls = load_halls(PROJECT_ROOT / "knowledge" / "halls.yaml")
        services.sync_catalog(
            Catalog(
                halls, (CatalogService("gongjijin_tiqu", "住房公积金提取", 0, 3, (("city", "公积金窗口"),)),)
            )
        )
        with TestClient(create_app(settings, services=services)) as client:
            add_account(client, "zy1001", "王芳", "agent")
            add_account(client, "zy2001", "李业务", "business")
            add_account(client, "zy3101", "周知识", "knowledge")
            yield client
        engine.dispose()


def _open(app: TestClient, **changes: str | None) -> str:
    response = app.post("/api/services/agency-requests", json={**FORM, **changes})
    assert response.status_code == 201, response.text
    return str(response.json()["tracking_number"])


def _audit(app: TestClient, action: str, target: str) -> list[tuple[str, str]]:
    with app.app.state.services.unit() as (session, _ctx):  # type: ignore[attr-defined]
        rows = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == action, AuditRecord.target == target)
            .order_by(AuditRecord.id)
        )
        return [(row.actor, row.result) for row in rows]


def test_a_resident_opens_a_request_and_sees_its_state_only_with_the_right_phone(app: TestClient) -> None:
    response = app.post("/api/services/agency-requests", json=FORM)
    assert response.status_code == 201
    body = response.json()
    assert body["tracking_number"].startswith("DB20261130")
    assert (body["status_label"], body["subject_name"]) == ("已受理，待分派代办员", "住房公积金提取")
    assert "phone" not in str(body.keys()) and PHONE not in response.text

    status = app.post(
        "/api/services/agency-requests/status",
        json={"tracking_number": body["tracking_number"], "phone": PHONE, "sender_id": "web:village-7"},
    )
    assert status.status_code == 200 and status.json()["status"] == "received"
    wrong = app.post(
        "/api/services/agency-requests/status",
        json={
            "tracking_number": body["tracking_number"],
            "phone": "13985001234",
            "sender_id": "web:village-7",
        },
    )
    assert wrong.status_code == 404
    assert (
        wrong.json()["detail"]["message"]
        == "没有查到与您所填信息相符的代办申请。请核对代办编号和申请时留的手机号。"
    )

    with app.app.state.services.unit() as (session, _ctx):  # type: ignore[attr-defined]
        row = session.scalars(
            select(AgencyRequest).where(AgencyRequest.tracking_number == body["tracking_number"])
        ).one()
        stored = " ".join(str(getattr(row, column.key)) for column in AgencyRequest.__table__.columns)
    assert PHONE not in stored and "张三" not in stored


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "158000091"}, "手机号应为11位，您输入的是9位。"),
        ({"district": "渝中区"}, "“渝中区”不是遵义市的县区"),
        ({"service_id": None, "bundle_id": None}, "请选择要代办的一个事项或一件事（二选一）。"),
        ({"sender_id": "wechat:o123"}, "会话标识应以“web:”开头"),
    ],
)
def test_bad_requests_are_refused_in_chinese(
    app: TestClient, changes: dict[str, str | None], message: str
) -> None:
    response = app.post("/api/services/agency-requests", json={**FORM, **changes})
    assert response.status_code == 422
    assert message in response.json()["detail"]["message"]


def test_staff_routes_need_the_agent_or_business_role_and_the_csrf_token(app: TestClient) -> None:
    number = _open(app)
    assert browser(app).get("/api/staff/agency-requests").status_code == 401
    knowledge = sign_in(app, "zy3101")
    refused = knowledge.get("/api/staff/agency-requests")
    assert refused.status_code == 403 and "“坐席”" in refused.json()["detail"]["message"]
    agent = sign_in(app, "zy1001")
    listing = agent.get("/api/staff/agency-requests", params={"status": "received", "district": "湄潭"})
    assert listing.status_code == 200
    assert number in [item["tracking_number"] for item in listing.json()]
    assert listing.json()[0]["phone_masked"] == "158****9119"

    no_token = sign_in(app, "zy2001")
    del no_token.headers["X-CSRF-Token"]
    change = {"status": "assigned", "agent": "兴隆镇代办员刘梅"}
    assert no_token.post(f"/api/staff/agency-requests/{number}/status", json=change).status_code == 403
    assert knowledge.post(f"/api/staff/agency-requests/{number}/status", json=change).status_code == 403
    assert _audit(app, "agency.status", number) == []


def test_staff_move_a_request_along_audited_under_their_login(app: TestClient) -> None:
    number = _open(app)
    agent, business = sign_in(app, "zy1001"), sign_in(app, "zy2001")
    too_early = business.post(f"/api/staff/agency-requests/{number}/status", json={"status": "done"})
    assert too_early.status_code == 409
    assert too_early.json()["detail"]["message"] == "代办申请当前为“已受理，待分派代办员”，不能改为“已办结”。"
    assigned = agent.post(
        f"/api/staff/agency-requests/{number}/status", json={"status": "assigned", "agent": "刘梅"}
    )
    assert assigned.status_code == 200 and assigned.json()["agent"] == "刘梅"
    business.post(f"/api/staff/agency-requests/{number}/status", json={"status": "in_progress"})
    done = business.post(f"/api/staff/agency-requests/{number}/status", json={"status": "done"})
    assert done.json()["status_label"] == "已办结"
    assert business.get(f"/api/staff/agency-requests/{number}").json()["status"] == "done"
    bad = business.post(f"/api/staff/agency-requests/{number}/status", json={"status": "finished"})
    assert bad.status_code == 422 and "状态取值不正确" in bad.json()["detail"]["message"]
    assert _audit(app, "agency.status", number) == [
        ("zy1001", "assigned"),
        ("zy2001", "in_progress"),
        ("zy2001", "done"),
    ]
    seen = app.post(
        "/api/services/agency-requests/status",
        json={"tracking_number": number, "phone": PHONE, "sender_id": "web:village-7"},
    )
    assert seen.json()["status_label"] == "已办结"


def test_agent_or_business_staff_see_the_whole_phone_to_call_back_audited(app: TestClient) -> None:
    number = _open(app)
    assert sign_in(app, "zy3101").post(f"/api/staff/agency-requests/{number}/phone").status_code == 403
    shown = sign_in(app, "zy1001").post(f"/api/staff/agency-requests/{number}/phone")
    assert shown.status_code == 200 and shown.json()["phone"] == PHONE
    assert _audit(app, "agency.phone_revealed", number) == [("zy1001", "shown")]
    listed = sign_in(app, "zy2001").get(f"/api/staff/agency-requests/{number}").json()
    assert PHONE not in str(listed)
