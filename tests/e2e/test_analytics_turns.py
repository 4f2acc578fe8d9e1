"""Every turn through the real stack lands in the analytics tables: the gateway's turn id is Rasa's
message id, Rasa's SQL event broker carries the events, the ingester (the stack's fourth process)
writes the rows within seconds, and a rating made with the returned turn id (by a client, by the
widget in Chromium, or in the dialogue) joins its question."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from services.models import AnalyticsTurn, Rating, TurnKind
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
WITHIN_SECONDS = 15.0


def _turn(stack: Stack, turn_id: str) -> AnalyticsTurn:
    deadline = time.monotonic() + WITHIN_SECONDS
    while True:
        with stack.services.unit() as (session, _ctx):
            row = session.scalars(select(AnalyticsTurn).where(AnalyticsTurn.turn_id == turn_id)).one_or_none()
        if row is not None and row.latency_ms is not None:
            return row
        assert time.monotonic() < deadline, f"turn {turn_id} not ingested within {WITHIN_SECONDS:g} s"
        time.sleep(0.3)


def _card(reply: dict[str, Any]) -> dict[str, Any]:
    return next(m["payload"] for m in reply["messages"] if m.get("payload"))


def test_turns_are_recorded_with_their_kind_guide_and_rating(stack: Stack) -> None:
    sender = f"web:{uuid.uuid4().hex}"
    nonsense = stack.chat(sender, "火星移民签证怎么申请")
    assert _card(nonsense)["type"] == "unanswered"
    materials = stack.chat(sender, "低保要带哪些材料")
    asked, unanswered = materials["turn_id"], nonsense["turn_id"]
    assert asked and unanswered and asked != unanswered
    card = _card(materials)

    # The widget rates the answer with the turn id the chat response returned.
    rated = httpx.post(
        f"{stack.url}/api/services/ratings",
        json={
            "sender_id": sender,
            "turn_id": asked,
            "score": 4,
            "guide_id": card["guide_id"],
            "channel": "web",
        },
        timeout=30,
    )
    assert rated.status_code == 200, rated.text

    answered = _turn(stack, asked)
    assert (answered.kind, answered.guide_id, answered.section) == (
        TurnKind.answered,
        "zuidi_shenghuo_baozhang_shenqing",
        "materials",
    )
    assert (answered.text, answered.channel, answered.intent) == ("低保要带哪些材料", "web", "ask_materials")
    assert sender not in answered.sender and 0 < answered.latency_ms < 30_000
    fallback = _turn(stack, unanswered)
    assert fallback.kind is TurnKind.fallback and fallback.guide_id is None

    # Rated in the dialogue too (谢谢 → the offer → 5分): the rating is the answer's, not its own.
    stack.chat(sender, "谢谢")
    stack.chat(sender, "5分")
    with stack.services.unit() as (session, _ctx):
        joined = session.execute(
            select(Rating.score, AnalyticsTurn.guide_id)
            .join(AnalyticsTurn, AnalyticsTurn.turn_id == Rating.turn_id)
            .where(Rating.sender_id == sender)
        ).all()
    assert [tuple(row) for row in joined] == [(5, "zuidi_shenghuo_baozhang_shenqing")]


def test_the_widget_rates_the_turn_the_server_named(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    try:
        page.goto(f"{stack.url}/")
        page.get_by_role("button", name="打开贵博士智能客服").click()
        box = page.get_by_label("输入您想咨询的问题")
        box.fill("低保要带哪些材料")
        box.press("Enter")
        answer = page.locator(".gb-bot", has=page.locator(".gb-checklist")).last
        expect(answer).to_be_visible(timeout=60_000)
        answer.get_by_role("group", name="为这个回答评分").get_by_role("button", name="4分").click()
        expect(answer.locator(".gb-thanks")).to_contain_text("4分")
        sender = page.evaluate(
            "() => Object.keys(localStorage).filter(k => k.endsWith('sender'))"
            ".map(k => JSON.parse(localStorage.getItem(k)))[0]"
        )
    finally:
        context.close()
    with stack.services.unit() as (session, _ctx):
        rating = session.scalars(select(Rating).where(Rating.sender_id == sender)).one()
    rated = _turn(stack, rating.turn_id)
    assert (rated.text, rated.kind, rating.score) == ("低保要带哪些材料", TurnKind.answered, 4)
