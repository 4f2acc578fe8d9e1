"""The workbench's 节假日 routes on the real gateway: the coverage warning for every signed-in
member of staff, the years known, and saving a year (知识 role, CSRF, validated, audited)."""

from __future__ import annotations

import datetime as dt
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))  # staff_support, whatever pytest's import mode

from staff_support import add_account, browser, sign_in

from channels.app import create_app
from core.settings import GatewaySettings, ServicesSettings, Settings
from services import holidays
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services
from services.models import AuditRecord
from services.workdays import is_open

# Made up for the test; the real 2027 schedule is entered once the State Council publishes it.
YEAR_2027: dict[str, Any] = {
    "notice": {"number": "测试〔2026〕1号", "title": "测试用的2027年放假安排（虚构）", "date": "2026-11-20"},
    "holidays": {"元旦": ["2027-01-01 ~ 2027-01-03"]},
    "workdays": ["2027-01-09"],
}


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def calendar_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("holidays")
    with holidays.using_directory(directory):
        yield directory


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, calendar_dir: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('holiday-routes') / 'services.db'}"
    settings = Settings(
        environment="development",
        services=ServicesSettings(database_url=url),
        gateway=GatewaySettings(rasa_url=_dead_url(), rasa_timeout_seconds=1),
    )
    migrate(url)
    services = Services(
        make_sessionmaker(make_engine(url)), settings.services, clock=lambda: dt.datetime(2026, 11, 30, 10, 0)
    )
    with TestClient(create_app(settings, services=services)) as client:
        add_account(client, "zy1001", "王芳", "agent")
        add_account(client, "zy3101", "周知识", "knowledge")
        yield client


def _audit(app: TestClient, action: str) -> list[tuple[str, str | None, str]]:
    with app.app.state.services.unit() as (session, _ctx):  # type: ignore[attr-defined]
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
        )
        return [(row.actor, row.target, row.result) for row in rows]


def test_every_signed_in_member_of_staff_sees_the_warning(app: TestClient) -> None:
    assert browser(app).get("/api/workbench/holidays/status").status_code == 401
    status = sign_in(app, "zy1001").get("/api/workbench/holidays/status")
    assert status.status_code == 200
    assert status.json() == {
        "covered_until": "2026-12-31",
        "days_left": 31,
        "enter_by": "2026-12-17",
        "warn": True,
        "message": "节假日日历只到2026年12月31日，请在12月17日前录入2027年国务院放假安排。",
    }


def test_saving_a_year_needs_the_knowledge_role_and_the_csrf_token(
    app: TestClient, calendar_dir: Path
) -> None:
    agent = sign_in(app, "zy1001")
    refused = agent.put("/api/workbench/holidays/2027", json=YEAR_2027)
    assert refused.status_code == 403 and "“知识”" in refused.json()["detail"]["message"]
    assert ("zy1001", "PUT /api/workbench/holidays/2027", "refused") in _audit(app, "staff.forbidden")
    knowledge = sign_in(app, "zy3101")
    del knowledge.headers["X-CSRF-Token"]
    assert knowledge.put("/api/workbench/holidays/2027", json=YEAR_2027).status_code == 403
    assert not (calendar_dir / "2027.yaml").exists()


def test_an_invalid_year_is_refused_with_the_field_named(app: TestClient, calendar_dir: Path) -> None:
    knowledge = sign_in(app, "zy3101")
    response = knowledge.put("/api/workbench/holidays/2027", json={**YEAR_2027, "workdays": ["2027-01-06"]})
    assert response.status_code == 422
    assert response.json()["detail"]["message"] == (
        "2027.yaml 的 workdays[0]（调休上班日）：2027-01-06（星期三） 不是周末；调休上班日应为星期六或星期日"
    )
    assert not (calendar_dir / "2027.yaml").exists()
    response = knowledge.put("/api/workbench/holidays/1999", json=YEAR_2027)
    assert response.status_code == 422 and response.json()["detail"]["message"] == "年份不能小于2000。"


def test_a_saved_year_is_written_audited_and_used_at_once(app: TestClient, calendar_dir: Path) -> None:
    knowledge = sign_in(app, "zy3101")
    saved = knowledge.put("/api/workbench/holidays/2027", json=YEAR_2027)
    assert saved.status_code == 200, saved.text
    assert saved.json()["days_off"] == 3 and saved.json()["active"]
    assert (calendar_dir / "2027.yaml").exists()
    assert ("zy3101", "2027.yaml", "created") in _audit(app, "holidays.save")
    assert is_open(dt.date(2027, 1, 9)) and not is_open(dt.date(2027, 1, 1))
    listing = knowledge.get("/api/workbench/holidays").json()
    assert {"year": 2027, "source": "2027.yaml"} in listing["years"]
    assert {"year": 2026, "source": "chinesecalendar"} in listing["years"]
    assert listing["files"][0]["holidays"] == {"元旦": ["2027-01-01 ~ 2027-01-03"]}
    status = knowledge.get("/api/workbench/holidays/status").json()
    assert status["covered_until"] == "2027-12-31" and not status["warn"]
