"""The service centre's dashboard in a real browser (Debian's Chromium): an analyst signs in on a
gateway whose database holds a seeded month of turns, sets the period, and sees the charts drawn
and the seeded numbers; a member of staff without the role is told so. Rasa is not needed here,
so the gateway runs alone (in a thread) over its own scratch database.

Needs /usr/bin/chromium and CJK fonts: `bash scripts/setup_browser.sh`. The screenshot goes to
tests/artifacts/workbench-dashboard.png for a person to look at.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from wechat_fake import serve

from channels.app import create_app
from core.settings import GatewaySettings, ServicesSettings, Settings
from services.catalog import load_catalog
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services
from services.seed_turns import TurnSeedReport, seed_month
from services.staff import StaffDirectory
from tests.e2e.conftest import ARTIFACTS, STAFF_PASSWORD

pytestmark = pytest.mark.e2e

ANALYST, KNOWLEDGE = "zy4001", "zy5001"

expect.set_options(timeout=30_000)


@dataclass(frozen=True)
class Gateway:
    url: str
    report: TurnSeedReport


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    directory: Path = tmp_path_factory.mktemp("workbench-browser")
    url = f"sqlite:///{directory / 'services.db'}"
    settings = Settings(
        environment="development",
        services=ServicesSettings(database_url=url),
        gateway=GatewaySettings(rasa_url=_dead_url(), rasa_timeout_seconds=1),
    )
    migrate(url)
    services = Services(make_sessionmaker(make_engine(url)), settings.services)
    catalog = load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file)
    report = seed_month(services, catalog, environment="development")
    staff = StaffDirectory(services, settings.staff)
    staff.add(ANALYST, "孙数据", ["analyst"], STAFF_PASSWORD, actor="cli:e2e")
    staff.add(KNOWLEDGE, "周知识", ["knowledge"], STAFF_PASSWORD, actor="cli:e2e")
    with serve(create_app(settings, services=services)) as base:
        yield Gateway(base, report)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _sign_in(page: Page, gateway: Gateway, login: str) -> None:
    page.goto(f"{gateway.url}/workbench")
    page.get_by_label("登录名（工号）").fill(login)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_label("密码").press("Enter")


def test_analyst_sees_the_seeded_month_charted(page: Page, gateway: Gateway) -> None:
    report = gateway.report
    _sign_in(page, gateway, ANALYST)
    expect(page.locator(".wb-who")).to_contain_text("孙数据（zy4001）")
    expect(page.get_by_role("link", name="看板")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name="待答问题")).to_have_count(0)  # not an analyst's page
    expect(page.locator("body[data-loaded=true]")).to_have_count(1)

    page.get_by_label("开始日期").fill(report.first_day.isoformat())
    page.get_by_label("结束日期").fill(report.last_day.isoformat())
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#status")).to_have_text(f"{report.first_day} 至 {report.last_day}")
    expect(page.locator("#kpi-turns")).to_have_text(f"{report.turns:,}")
    expect(page.locator("#kpi-satisfaction")).to_contain_text(f"（{report.ratings:,} 条）")

    # Every chart card drew its chart: ECharts put a canvas with a size into each.
    charts = page.locator(".chart")
    expect(charts).to_have_count(10)  # nine figures and the forecast
    for index in range(charts.count()):
        expect(charts.nth(index).locator("canvas")).to_have_count(1)
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('.chart')].every((el) => {"
        "  const chart = echarts.getInstanceByDom(el); return chart && chart.getWidth() > 300; })"
    )
    assert drawn
    expect(page.locator("#card-unanswered tbody tr").first).to_contain_text("低保")
    expect(page.locator("#shortfall")).to_contain_text("号源可能不足")
    expect(page.locator("#card-forecast .hint")).to_contain_text("Holt-Winters")
    export = page.locator("#card-daily a.export", has_text="Excel")
    expect(export).to_have_attribute(
        "href",
        f"/api/workbench/export?start={report.first_day}&end={report.last_day}&table=daily&format=xlsx",
    )

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "workbench-dashboard.png"), full_page=True)

    page.get_by_label("渠道", exact=True).select_option(label="微信")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#kpi-turns")).not_to_have_text(f"{report.turns:,}")


def test_staff_without_the_role_are_told_so(page: Page, gateway: Gateway) -> None:
    _sign_in(page, gateway, KNOWLEDGE)
    denied = page.locator(".wb-denied")
    expect(denied).to_contain_text("无权限")
    expect(denied).to_contain_text("“数据”或“管理员”")
    expect(page.locator("#wb-main")).to_be_hidden()
