"""The workbench's 节假日 page in Chromium on the real gateway (no dialogue needed): the warning
banner, entering a year the package does not know, and the validation message for a wrong one.

The 2027 dates typed here are made up for the test; the file goes to a temporary directory.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

sys.path.insert(0, str(Path(__file__).parent.parent / "channels"))  # wechat_fake, staff_support

from staff_support import PASSWORD
from wechat_fake import free_port, serve

from channels.app import create_app
from core.settings import GatewaySettings, ServicesSettings, Settings
from services import holidays
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services
from services.staff import StaffDirectory
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    calendar_dir = tmp_path_factory.mktemp("holidays")
    url = f"sqlite:///{tmp_path_factory.mktemp('holiday-page') / 'services.db'}"
    settings = Settings(
        environment="development",
        services=ServicesSettings(database_url=url),
        gateway=GatewaySettings(rasa_url=f"http://127.0.0.1:{free_port()}", rasa_timeout_seconds=1),
    )
    migrate(url)
    services = Services(
        make_sessionmaker(make_engine(url)), settings.services, clock=lambda: dt.datetime(2026, 11, 30, 10, 0)
    )
    StaffDirectory(services, settings.staff).add(
        "zy3101", "周知识", ["knowledge"], PASSWORD, actor="cli:test"
    )
    with holidays.using_directory(calendar_dir), serve(create_app(settings, services=services)) as base:
        yield base, calendar_dir


@pytest.fixture
def page(browser: Browser, gateway: tuple[str, Path]) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{gateway[0]}/workbench/holidays")
    page.get_by_label("登录名（工号）", exact=True).fill("zy3101")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_a_knowledge_member_enters_the_next_year_and_the_warning_goes(
    page: Page, gateway: tuple[str, Path]
) -> None:
    warning = "节假日日历只到2026年12月31日，请在12月17日前录入2027年国务院放假安排。"
    expect(page.get_by_role("status").filter(has_text=warning).first).to_be_visible()
    expect(page.get_by_text(warning)).to_have_count(2)  # the shell's banner and the page's own status
    expect(page.get_by_label("年份", exact=True)).to_have_value("2027")
    page.get_by_label("通知文号", exact=True).fill("测试〔2026〕1号")
    page.get_by_label("通知标题", exact=True).fill("测试用的2027年放假安排（虚构）")
    page.get_by_label("发布日期", exact=True).fill("2026-11-20")
    page.get_by_label("元旦", exact=True).fill("2027-01-01 ~ 2027-01-03")
    page.get_by_label("调休上班日", exact=True).fill("2027-01-06")
    page.get_by_role("button", name="保存").click()
    expect(
        page.get_by_role("alert").filter(has_text="workdays[0]（调休上班日）：2027-01-06（星期三） 不是周末")
    ).to_be_visible()
    assert not (gateway[1] / "2027.yaml").exists()
    page.get_by_label("调休上班日", exact=True).fill("2027-01-09")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存 2027.yaml，共放假 3 天。")).to_be_visible()
    expect(page.get_by_text("节假日日历已覆盖至2027年12月31日。")).to_be_visible()
    expect(page.get_by_text(warning)).to_have_count(0)
    expect(page.get_by_role("cell", name="工作人员录入：2027.yaml")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "workbench-holidays.png"), full_page=True)
    assert holidays.read_file(gateway[1] / "2027.yaml").holiday_name(dt.date(2027, 1, 2)) == "元旦"
