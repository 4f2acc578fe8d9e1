"""Waiting for a person after 转人工, in Chromium against the real stack: the queue, the service
hours, an agent's replies, and stopping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import Stack
from tests.e2e.test_widget_browser import REPLY_MS, _last_bot, _new_page, _open, _said, _screenshot

pytestmark = pytest.mark.e2e

AGENT = "王芳"
HOURS = "工作日 9:00—17:00"
# The widget polls its inbox every 4 s.
POLL_MS = 15_000


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    yield from _new_page(browser, stack, 1280, 900)


def _ask_for_a_person(page: Page) -> str:
    _open(page)
    page.get_by_role("button", name="转人工客服").click()
    ticket = page.locator(".gb-ticket").last
    expect(ticket).to_contain_text("工单号", timeout=REPLY_MS)
    return ticket.inner_text().split("：")[-1].strip()


def test_the_queue_place_and_service_hours_are_shown_when_the_gateway_gives_them(page: Page) -> None:
    """The inbox is answered here, so that each variant of InboxView is shown deterministically."""
    view: dict[str, Any] = {"messages": [], "status": "waiting", "open": True}

    def inbox(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(view))

    page.route(re.compile(r"/api/chat/inbox\?"), inbox)
    view.update(position=3, hours=HOURS, open_now=False)
    ticket = _ask_for_a_person(page)
    view["ticket"] = ticket
    waiting = page.locator(".gb-queue")
    status = waiting.get_by_role("status")
    expect(status).to_contain_text(f"排队中，您排在第 3 位（工单号 {ticket}）", timeout=POLL_MS)
    expect(status).to_contain_text(f"人工服务时间：{HOURS}")
    expect(status).to_contain_text("现在不在服务时间")
    expect(waiting.get_by_role("button", name="结束等待")).to_be_visible()
    _screenshot(page, "handoff-waiting-after-hours")

    view.update(position=1, open_now=True)
    expect(status).to_contain_text("您排在第 1 位", timeout=POLL_MS)
    expect(status).not_to_contain_text("不在服务时间")

    # An older gateway without these fields: nothing made up.
    for name in ("position", "hours", "open_now"):
        view.pop(name)
    expect(status).not_to_contain_text("位", timeout=POLL_MS)
    expect(status).to_contain_text("排队中")
    expect(status).not_to_contain_text("人工服务时间")

    view["open"] = False
    expect(waiting).to_be_hidden(timeout=POLL_MS)


def test_an_agent_answers_and_the_resident_ends_it(page: Page, stack: Stack) -> None:
    ticket = _ask_for_a_person(page)
    waiting = page.locator(".gb-queue")
    expect(waiting.get_by_role("status")).to_contain_text("排队中")

    stack.services.claim_handoff(ticket, agent=AGENT)
    reply = "您好，我是12345人工客服，请问高龄补贴哪里不清楚？"
    stack.services.reply_to_handoff(ticket, agent=AGENT, text=reply)
    answer = _last_bot(page)
    expect(answer).to_have_text(f"人工客服：{reply}", timeout=POLL_MS)
    expect(waiting.get_by_role("status")).to_contain_text("人工客服已接入")
    expect(waiting.get_by_role("status")).not_to_contain_text("排队")
    _screenshot(page, "handoff-claimed")

    waiting.get_by_role("button", name="结束人工").click()
    expect(_said(page).last).to_have_text("结束人工")
    expect(_last_bot(page)).to_contain_text("已结束人工服务", timeout=REPLY_MS)
    expect(waiting).to_be_hidden(timeout=POLL_MS)
    assert stack.services.handoff(ticket).status.value == "closed"


def test_stop_waiting_before_anyone_answers(page: Page, stack: Stack) -> None:
    ticket = _ask_for_a_person(page)
    waiting = page.locator(".gb-queue")
    waiting.get_by_role("button", name="结束等待").click()
    expect(_said(page).last).to_have_text("结束人工")
    expect(page.locator(".gb-typing")).to_be_hidden(timeout=REPLY_MS)
    expect(waiting).to_be_hidden(timeout=POLL_MS)
    assert stack.services.handoff(ticket).status.value == "closed"
