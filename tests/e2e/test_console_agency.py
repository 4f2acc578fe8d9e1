"""The 免费代办 requests on the operators' console in a real browser (Debian's Chromium): a 坐席
sees the open requests, reveals a resident's whole phone to call back (audited, shown only after
asking), assigns an agent, starts and finishes; a wrong move is refused in Chinese and loses
nothing typed. Rasa is not needed, so the gateway runs alone (in a thread) over its own database.

Needs /usr/bin/chromium and CJK fonts: `bash scripts/setup_browser.sh`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from wechat_fake import serve

from channels.app import create_app
from core.settings import PROJECT_ROOT, GatewaySettings, ServicesSettings, Settings
from services.agency import AgencyRequestForm
from services.catalog import load_catalog
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services
from services.models import AuditRecord
from services.staff import StaffDirectory
from tests.e2e.conftest import ARTIFACTS, STAFF_LOGIN, STAFF_PASSWORD

pytestmark = pytest.mark.e2e

PHONE = "15800009119"

expect.set_options(timeout=15_000)


@dataclass(frozen=True)
class Gateway:
    url: str
    services: Services


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    directory: Path = tmp_path_factory.mktemp("console-agency")
    url = f"sqlite:///{directory / 'services.db'}"
    settings = Settings(
        environment="development",
        services=ServicesSettings(database_url=url),
        gateway=GatewaySettings(rasa_url=_dead_url(), rasa_timeout_seconds=1),
    )
    migrate(url)
    services = Services(make_sessionmaker(make_engine(url)), settings.services)
    services.sync_catalog(load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file))
    StaffDirectory(services, settings.staff).add(
        STAFF_LOGIN, "王芳", ["agent"], STAFF_PASSWORD, actor="cli:e2e"
    )
    with serve(create_app(settings, services=services)) as base:
        yield Gateway(base, services)


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


def _open_request(gateway: Gateway) -> str:
    form = AgencyRequestForm(
        sender_id="web:village-9",
        name="张三",
        phone=PHONE,
        district="湄潭县",
        town="兴隆镇",
        service_id="gaoling_butie",
        note="老人走不动路",
    )
    return gateway.services.open_agency_request(
        form, bundles_dir=PROJECT_ROOT / "knowledge" / "bundles"
    ).tracking_number


def _reveals(gateway: Gateway, number: str) -> list[str]:
    with gateway.services.unit() as (session, _ctx):
        rows = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "agency.phone_revealed", AuditRecord.target == number
            )
        )
        return [row.actor for row in rows]


def test_an_operator_calls_back_assigns_and_finishes_a_request(page: Page, gateway: Gateway) -> None:
    number = _open_request(gateway)
    page.goto(f"{gateway.url}/console")
    page.get_by_label("登录名（工号）").fill(STAFF_LOGIN)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_label("密码").press("Enter")

    panel = page.get_by_role("region", name="免费代办申请")
    row = panel.get_by_role("listitem").filter(has_text=number)
    expect(row).to_contain_text("高龄补贴申领")
    expect(row).to_contain_text("湄潭县兴隆镇 · 张* 158****9119 · 已受理，待分派代办员")
    expect(row).to_contain_text("群众补充：老人走不动路")
    expect(page.get_by_text(PHONE)).to_have_count(0)
    assert _reveals(gateway, number) == []

    row.get_by_role("button", name="查看完整手机号").click()
    expect(row).to_contain_text(f"手机 {PHONE}（查看已留痕）")
    assert _reveals(gateway, number) == [STAFF_LOGIN]

    # Assigning without a name is refused in Chinese; the row stays as it was.
    row.get_by_role("button", name="分派").click()
    expect(panel.get_by_role("alert")).to_have_text("分派时请填写代办员姓名。")
    row.get_by_label(f"{number} 代办员姓名或取消原因").fill("兴隆镇代办员刘梅")
    row.get_by_role("button", name="分派").click()
    expect(row).to_contain_text("已分派代办员（兴隆镇代办员刘梅）")
    expect(panel.get_by_role("alert")).to_have_text("")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-agency.png"), full_page=True)

    row.get_by_role("button", name="开始代办").click()
    expect(row).to_contain_text("代办中")
    row.get_by_role("button", name="办结").click()  # asks first: finishing cannot be undone
    expect(row).to_contain_text("代办中")
    row.get_by_role("button", name="确认办结？").click()
    expect(row).to_have_count(0)
    seen = gateway.services.agency_status(number, PHONE, "web:village-9")
    assert seen is not None and seen.status_label == "已办结"
