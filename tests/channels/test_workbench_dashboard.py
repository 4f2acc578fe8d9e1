"""The dashboard's routes on the real app with a seeded month of turns: who may read them, the
figures they answer against the seeded rows, and the CSV and Excel files holding the same numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import socket
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))  # staff_support, whatever pytest's import mode

from staff_support import add_account, browser, sign_in

from channels.app import create_app
from core.settings import GatewaySettings, ServicesSettings, Settings
from services.catalog import load_catalog
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services
from services.models import AnalyticsTurn
from services.seed_turns import TurnSeedReport, seed_month

NOW = dt.datetime(2026, 11, 26, 10, 0)


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, TurnSeedReport]]:
    """The gateway over a database holding `python -m services seed --turns`; an account per role."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'services.db'}"
    settings = Settings(
        environment="development",
        services=ServicesSettings(database_url=url),
        gateway=GatewaySettings(rasa_url=_dead_url(), rasa_timeout_seconds=1),
    )
    migrate(url)
    services = Services(make_sessionmaker(make_engine(url)), settings.services, clock=lambda: NOW)
    catalog = load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file)
    report = seed_month(services, catalog, environment="development")
    with TestClient(create_app(settings, services=services)) as client:
        add_account(client, "zy4001", "孙数据", "analyst")
        add_account(client, "zy9001", "钱管理", "admin")
        add_account(client, "zy5001", "周知识", "knowledge")
        yield client, report


def _rows(client: TestClient) -> list[Any]:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    with services.unit() as (session, _ctx):
        return list(
            session.execute(select(AnalyticsTurn.at, AnalyticsTurn.channel, AnalyticsTurn.kind)).all()
        )


def _texts(client: TestClient) -> list[str]:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    with services.unit() as (session, _ctx):
        return list(session.scalars(select(AnalyticsTurn.text).where(AnalyticsTurn.kind == "fallback")))


def _table(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in body["tables"] if t["name"] == name)


def test_routes_refuse_without_login_and_with_the_wrong_role(
    seeded: tuple[TestClient, TurnSeedReport],
) -> None:
    client, _ = seeded
    for path in ("/api/workbench/dashboard", "/api/workbench/export?table=daily&format=csv"):
        anonymous = browser(client).get(path)
        assert anonymous.status_code == 401 and anonymous.json()["detail"]["message"] == "请先登录。"
        refused = sign_in(client, "zy5001").get(path)
        assert refused.status_code == 403 and "数据" in refused.json()["detail"]["message"]
    assert sign_in(client, "zy9001").get("/api/workbench/dashboard").status_code == 200


def test_dashboard_figures_equal_the_seeded_rows(seeded: tuple[TestClient, TurnSeedReport]) -> None:
    client, report = seeded
    rows = _rows(client)
    texts = _texts(client)
    analyst = sign_in(client, "zy4001")
    response = analyst.get(
        "/api/workbench/dashboard", params={"start": str(report.first_day), "end": str(report.last_day)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["turns"] == report.turns == len(rows)
    per_day = Counter(at.date().isoformat() for at, _, _ in rows)
    assert {row[0]: row[1] for row in _table(body, "daily")["rows"]} == dict(per_day)
    per_channel = Counter(channel for _, channel, _ in rows)
    assert {row[0]: row[1] for row in _table(body, "channels")["rows"]} == {
        "微信": per_channel["wechat"],
        "网页": per_channel["web"],
    }
    fallback = sum(1 for _, _, kind in rows if kind.value == "fallback")
    assert body["summary"]["fallback_rate"] == round(fallback / len(rows), 4)
    assert body["summary"]["ratings"] == report.ratings
    assert body["summary"]["handoffs_opened"] == report.handoffs

    # The recurring unanswered wordings are one group: 低保咋个申请 / 低保怎么申请啊 / 低保怎么申请.
    unanswered = _table(body, "unanswered")["rows"]
    dibao = [row for row in unanswered if "低保" in row[1]]
    assert len(dibao) == 1, unanswered
    assert {"低保怎么申请", "低保怎么申请啊"} <= set(dibao[0][4].split("；"))
    assert dibao[0][2] >= sum(1 for text in texts if text.startswith("低保"))

    # The most booked service runs short on Mondays (weekend requests wait for them).
    forecast = _table(body, "forecast")["rows"]
    assert len({row[2] for row in forecast}) == 14 and body["forecast_start"] == "2026-11-26"
    assert all(row[4] >= 0 for row in forecast)
    short = [row for row in forecast if row[7] is not None]
    assert short and all(dt.date.fromisoformat(row[2]).weekday() == 0 for row in short)

    wechat = analyst.get(
        "/api/workbench/dashboard",
        params={"start": str(report.first_day), "end": str(report.last_day), "channel": "wechat"},
    ).json()
    assert wechat["summary"]["turns"] == per_channel["wechat"]


def test_exports_hold_the_same_numbers(seeded: tuple[TestClient, TurnSeedReport]) -> None:
    client, report = seeded
    analyst = sign_in(client, "zy4001")
    period = {"start": str(report.first_day), "end": str(report.last_day)}
    body = analyst.get("/api/workbench/dashboard", params=period).json()
    daily = _table(body, "daily")

    as_csv = analyst.get("/api/workbench/export", params={**period, "table": "daily", "format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith("\ufeff".encode())  # Excel opens UTF-8 Chinese with the BOM
    assert "attachment" in as_csv.headers["content-disposition"]
    parsed = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert parsed[0] == daily["columns"]
    assert [[row[0], *map(int, row[1:])] for row in parsed[1:]] == daily["rows"]

    workbook = analyst.get("/api/workbench/export", params={**period, "table": "all", "format": "xlsx"})
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == [t["title"] for t in body["tables"]]
    sheet = book["每日咨询量"]
    values = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [list(row) for row in values] == daily["rows"]
    satisfaction = [list(r) for r in book["各渠道满意度"].iter_rows(min_row=3, values_only=True)]
    assert satisfaction == _table(body, "satisfaction_channels")["rows"]

    one = analyst.get("/api/workbench/export", params={**period, "table": "handoffs", "format": "xlsx"})
    assert load_workbook(io.BytesIO(one.content)).sheetnames == ["转人工"]


def test_bad_filters_are_refused_in_chinese(seeded: tuple[TestClient, TurnSeedReport]) -> None:
    client, _ = seeded
    analyst = sign_in(client, "zy4001")
    backwards = analyst.get("/api/workbench/dashboard", params={"start": "2026-11-20", "end": "2026-11-01"})
    assert (
        backwards.status_code == 422 and backwards.json()["detail"]["message"] == "开始日期不能晚于结束日期。"
    )
    unknown = analyst.get("/api/workbench/export", params={"table": "nope", "format": "csv"})
    assert unknown.status_code == 422 and "没有“nope”这张表" in unknown.json()["detail"]["message"]
    csv_of_all = analyst.get("/api/workbench/export", params={"table": "all", "format": "csv"})
    assert csv_of_all.status_code == 422


def test_pages_and_vendored_echarts_are_served(seeded: tuple[TestClient, TurnSeedReport]) -> None:
    client, _ = seeded
    anonymous = browser(client)
    page = anonymous.get("/workbench")
    assert page.status_code == 200 and "看板" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    script = anonymous.get("/workbench/assets/common.js")
    assert script.status_code == 200 and "Workbench.start" in script.text
    assert anonymous.get("/vendor/echarts.min.js").headers["content-type"].startswith("text/javascript")
    assert anonymous.get("/vendor/echarts.LICENSE.txt").status_code == 200
    assert anonymous.get("/workbench/assets/..%2Fconsole.js").status_code == 404
    assert anonymous.get("/workbench/nope").status_code == 404
