"""The unanswered-question inbox in a real browser (Debian's Chromium): a member of 知识 staff signs
in, sees the 低保 wordings as one group, attaches it to the guide as an alias, and the group leaves
the inbox; the 命中测试 page then shows the ranks behind a question. The gateway runs alone (in a
thread) over a scratch database and a temporary copy of the knowledge; Rasa is not needed.

Needs /usr/bin/chromium and CJK fonts: `bash scripts/setup_browser.sh`. Screenshots go to
tests/artifacts/workbench-inbox*.png for a person to look at.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect
from wechat_fake import serve

sys.path.insert(0, str(Path(__file__).parents[1] / "workbench"))  # workbench_support

from workbench_support import add_turn, copy_knowledge, settings_in

from channels.app import create_app
from core.settings import GatewaySettings, ServicesSettings, Settings
from services.catalog import load_catalog
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services
from services.models import TurnKind
from services.staff import StaffDirectory
from tests.e2e.conftest import ARTIFACTS, STAFF_PASSWORD

pytestmark = pytest.mark.e2e

KNOWLEDGE = "zy5101"
GUIDE = "zuidi_shenghuo_baozhang_shenqing"

expect.set_options(timeout=30_000)


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("workbench-inbox-browser")
    return settings_in(
        root,
        copy_knowledge(root / "knowledge"),
        environment="development",
        services=ServicesSettings(database_url=f"sqlite:///{root / 'services.db'}"),
        gateway=GatewaySettings(rasa_url=_dead_url(), rasa_timeout_seconds=1),
    )


@pytest.fixture(scope="module")
def gateway(settings: Settings) -> Iterator[str]:
    migrate(settings.services.database_url)
    services = Services(make_sessionmaker(make_engine(settings.services.database_url)), settings.services)
    services.sync_catalog(load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file))
    for i, text in enumerate(["低保咋个申请", "低保怎么申请啊", "低保咋个申请", "低保怎么申请"]):
        add_turn(services, f"d{i}", text, channel="wechat" if i % 2 else "web")
    add_turn(services, "p0", "护照过期了在哪里换", kind=TurnKind.answered, confidence=0.3)
    StaffDirectory(services, settings.staff).add(
        KNOWLEDGE, "周知识", ["knowledge"], STAFF_PASSWORD, actor="cli:e2e"
    )
    with serve(create_app(settings, services=services)) as base:
        yield base


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


def _sign_in(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("登录名（工号）").fill(KNOWLEDGE)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page.locator(".wb-who")).to_contain_text(f"周知识（{KNOWLEDGE}）")


def test_staff_attach_a_group_as_an_alias_and_it_leaves_the_inbox(
    page: Page, gateway: str, settings: Settings
) -> None:
    _sign_in(page, f"{gateway}/workbench/inbox")
    expect(page.get_by_role("link", name="待答问题")).to_have_attribute("aria-current", "page")
    expect(page.locator("#inbox-summary")).to_have_text("共 2 组、5 条待处理的问题。")
    groups = page.locator("article.kn-group")
    expect(groups).to_have_count(2)
    dibao = groups.first  # the larger group comes first
    expect(dibao.locator(".kn-count")).to_have_text("4 次")
    expect(dibao.locator(".kn-examples li")).to_have_count(3)
    expect(dibao).to_contain_text("检索现在会给：《最低生活保障申请》")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "workbench-inbox.png"), full_page=True)

    alias_box = dibao.locator(".kn-action").filter(has_text="加为别名")
    alias_box.get_by_label("别名").fill("兜底钱")
    alias_box.get_by_role("button", name="加为别名").click()
    # Nothing preselected, even where retrieval has a suggestion: staff choose the guide.
    expect(dibao.get_by_role("alert")).to_contain_text("办事指南")
    alias_box.get_by_label("办事指南").select_option(GUIDE)
    alias_box.get_by_label("别名").fill("兜底钱")
    alias_box.get_by_role("button", name="加为别名").click()

    expect(page.locator(".wb-banner")).to_contain_text("已把“兜底钱”加为《最低生活保障申请》的别名")
    expect(groups).to_have_count(1)
    expect(groups.first).to_contain_text("护照过期了在哪里换")
    guide = yaml.safe_load((settings.knowledge.guides_dir / f"{GUIDE}.yaml").read_text(encoding="utf-8"))
    assert guide["aliases"][-1] == "兜底钱"

    page.reload()
    expect(page.locator("#inbox-summary")).to_have_text("共 1 组、1 条待处理的问题。")


def test_the_hit_test_page_shows_ranks_and_the_decision(page: Page, gateway: str) -> None:
    _sign_in(page, f"{gateway}/workbench/hit-test")
    page.get_by_label("问题").fill("低保要帶哪些材料")
    page.get_by_role("button", name="测试").click()
    expect(page.locator("#hit-text")).to_contain_text("低保要带哪些材料")  # 帶 → 带
    expect(page.locator("#hit-decision")).to_contain_text("最低生活保障申请")
    first = page.locator("#hit-docs tbody tr").first
    expect(first).to_have_attribute("data-doc", GUIDE)
    expect(first.locator("td").nth(1)).to_have_text("1")
    expect(page.locator("#hit-reply")).to_contain_text("材料")
    page.screenshot(path=str(ARTIFACTS / "workbench-hit-test.png"), full_page=True)
