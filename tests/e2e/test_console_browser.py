"""The 12345 operators' console in a real browser (Debian's Chromium) against the real stack: sign in
with a staff account, type what the caller says and see the suggestion, answer a resident waiting in
the web widget, sign out.

Needs /usr/bin/chromium and CJK fonts: `bash scripts/setup_browser.sh`. Screenshots go to
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import ARTIFACTS, STAFF_LOGIN, STAFF_PASSWORD, Stack

pytestmark = pytest.mark.e2e

QUESTION = "新农合交好多钱"
GUIDE = "城乡居民基本医疗保险参保缴费"
# The first answers can wait on the action server and the search model; the rest is quick.
SLOW_MS = 60_000

expect.set_options(timeout=15_000)


def _context(browser: Browser) -> BrowserContext:
    return browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
    )


@pytest.fixture
def pages(browser: Browser, stack: Stack) -> Iterator[tuple[Page, Page]]:
    """(operator's console, resident's page with the widget), each in its own browser context."""
    contexts = [_context(browser), _context(browser)]
    console, resident = (context.new_page() for context in contexts)
    errors: list[str] = []
    for page in (console, resident):
        page.on("pageerror", lambda error: errors.append(str(error)))
    console.goto(f"{stack.url}/console")
    resident.goto(f"{stack.url}/")
    yield console, resident
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


def _resident_asks_for_a_human(resident: Page) -> str:
    resident.get_by_role("button", name="打开贵博士智能客服").click()
    resident.get_by_role("button", name="转人工客服").click()
    ticket = resident.locator(".gb-ticket").last
    expect(ticket).to_contain_text("工单号", timeout=SLOW_MS)
    return ticket.inner_text().split("：")[-1].strip()


def _log_in(console: Page) -> None:
    expect(console.get_by_label("登录名（工号）")).to_be_focused()
    console.get_by_label("登录名（工号）").fill(STAFF_LOGIN)
    console.get_by_label("密码").fill("wrong-" + STAFF_PASSWORD)
    console.get_by_label("密码").press("Enter")
    expect(console.get_by_role("alert").first).to_contain_text("登录名或密码不正确")

    console.get_by_label("密码").fill(STAFF_PASSWORD)
    console.get_by_label("密码").press("Enter")
    expect(console.locator("#connection")).to_have_text("已连接")
    expect(console.locator("#agent-name")).to_have_text(f"坐席：王芳（{STAFF_LOGIN}）")
    expect(console.get_by_label("来电人说的话")).to_be_focused()


def test_operator_gets_suggestions_and_answers_a_waiting_resident(
    pages: tuple[Page, Page], stack: Stack
) -> None:
    console, resident = pages
    ticket = _resident_asks_for_a_human(resident)
    _log_in(console)

    # What the caller says, typed as an operator types it: suggestions follow the latest text.
    console.get_by_label("来电人说的话").press_sequentially(QUESTION, delay=60)
    answer = console.locator(".answer")
    expect(answer).to_contain_text(GUIDE, timeout=SLOW_MS)
    expect(answer.locator(".readout")).to_contain_text("收费标准")
    expect(answer.locator(".citation")).to_contain_text(f"来源：《{GUIDE}》")
    expect(answer.locator(".notice")).to_contain_text("示例数据")
    expect(console.locator(".nlu .intent")).not_to_be_empty()
    expect(console.locator(".hits li").first).to_contain_text(GUIDE)
    _screenshot(console, "suggestion")

    box = console.get_by_label("来电人说的话")
    box.press("Escape")
    box.press_sequentially("阿巴阿巴 蓝色的月亮跳舞", delay=30)
    expect(console.locator(".not-sure")).to_contain_text("没有把握")
    expect(console.locator(".answer")).to_have_count(0)

    waiting = console.locator("#waiting")
    expect(waiting).to_contain_text(ticket)
    waiting.get_by_role("button", name=f"接入 {ticket}").click()
    expect(console.locator("#mine")).to_contain_text(ticket)
    transcript = console.get_by_label("对话记录")
    expect(transcript).to_contain_text("转人工")
    reply = "您好，我是12345人工客服，新农合今年个人缴费400元（示例）。"
    console.get_by_label("回复群众").fill(reply)
    console.get_by_label("回复群众").press("Control+Enter")
    expect(transcript.locator(".role-agent").last).to_contain_text(reply)
    _screenshot(console, "handoff")

    expect(resident.locator(".gb-row-bot").last).to_contain_text(f"人工客服：{reply}", timeout=SLOW_MS)
    resident.screenshot(path=str(ARTIFACTS / "console-resident-sees-reply.png"))

    console.get_by_role("button", name="结束会话").click()
    expect(console.locator("#mine")).not_to_contain_text(ticket)
    expect(resident.locator(".gb-row-bot").last).to_contain_text("人工服务已结束", timeout=SLOW_MS)

    audit = stack.services.audit_log(reader="e2e", target=ticket)
    assert sorted(record.action for record in audit) == sorted(
        ["handoff.open", "handoff.claim", "handoff.reply", "handoff.reply", "handoff.close"]
    )
    assert {record.actor for record in audit if record.action != "handoff.open"} == {STAFF_LOGIN}
    assert re.fullmatch(r"RG\d+", ticket), ticket

    # Signing out ends the session on the server: a reload shows the sign-in form again.
    console.get_by_role("button", name="退出").click()
    expect(console.get_by_label("登录名（工号）")).to_be_visible()
    console.reload()
    expect(console.get_by_label("登录名（工号）")).to_be_focused()
    expect(console.locator("#workspace")).to_be_hidden()
