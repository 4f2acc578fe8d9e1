"""“猜你想问” in the 贵博士 widget, in Chromium against the real stack: the opening panel offers the
gateway's current suggestions as buttons, and a tap asks that question."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, Stack

pytestmark = pytest.mark.e2e

REPLY_MS = 60_000


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.url}/")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_the_opening_panel_offers_the_suggestions_and_a_tap_asks_one(page: Page, stack: Stack) -> None:
    questions = httpx.get(f"{stack.url}/api/suggestions", timeout=30).json()["questions"]
    assert questions
    page.get_by_role("button", name="打开贵博士智能客服").click()
    offered = page.get_by_role("group", name="猜你想问").get_by_role("button")
    expect(offered).to_have_text(questions)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-suggestions.png"))
    offered.first.click()
    expect(page.get_by_role("log").locator(".gb-row-user .gb-text").last).to_have_text(questions[0])
    answer = page.get_by_role("log").locator(".gb-row-bot").nth(1)  # the first after the welcome
    expect(answer).to_be_visible(timeout=REPLY_MS)
    expect(answer.locator(".gb-failed")).to_have_count(0)
