"""The widget's 一件事 card in Chromium against the real stack (issue 14 §2/§3): the steps of a
life event as a timeline, one merged checklist, and a pre-check of what was ticked.

Needs /usr/bin/chromium and CJK fonts (`bash scripts/setup_browser.sh`) and a trained model.
Screenshots go to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import Stack
from tests.e2e.test_widget_browser import REPLY_MS, _ask, _last_bot, _new_page, _open, _said, _screenshot
from tests.e2e.test_widget_contrast import _check

pytestmark = pytest.mark.e2e

QUESTION = "我家娃娃刚生，要办些啥子"
HOUSEHOLD_REGISTER = "居民户口簿"  # the 户口本: needed by several steps, asked for once


@pytest.fixture
def phone(browser: Browser, stack: Stack) -> Iterator[Page]:
    """The narrowest phone the widget is made for."""
    yield from _new_page(browser, stack, 360, 780, phone=True)


def _ask_bundle(page: Page) -> tuple[Locator, dict[str, Any]]:
    """Asks the life-event question: (the card once it is shown, the bundle_card it was drawn from)."""
    cards = page.get_by_role("log").locator(".gb-bundle")
    before = cards.count()
    with page.expect_response(lambda r: r.url.endswith("/api/chat"), timeout=REPLY_MS) as answered:
        _ask(page, QUESTION)
    expect(cards).to_have_count(before + 1, timeout=REPLY_MS)
    payloads = [m.get("payload") or {} for m in answered.value.json()["messages"]]
    payload = next(p for p in payloads if p.get("type") == "bundle_card")
    return cards.last, payload


def _line(card: Locator, name: str) -> Locator:
    """The checklist line of one material, by its exact name."""
    return card.locator(
        ".gb-material", has=card.page.locator(".gb-mname", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def _step_titles(card: Locator) -> list[str]:
    # Without the 第N步 said only to screen readers.
    return [
        str(t).split("：", 1)[-1]
        for t in card.locator(".gb-step-title").evaluate_all("els => els.map(e => e.textContent)")
    ]


def _no_sideways_scrolling(page: Page) -> None:
    widths = page.evaluate(
        """() => {
            const scroll = document.querySelector('#guiboshi-widget').shadowRoot.querySelector('.gb-scroll');
            return [scroll.scrollWidth, scroll.clientWidth];
        }"""
    )
    assert widths[0] <= widths[1], f"the card is wider than the screen: {widths}"


def test_bundle_timeline_checklist_and_precheck_on_a_phone(phone: Page) -> None:
    page = phone
    _open(page)
    card, payload = _ask_bundle(page)
    expect(_said(page).last).to_have_text(QUESTION)
    expect(card.locator(".gb-bundle-name")).to_have_text(f"「{payload['name']}」一次办")

    # The steps in order: the birth certificate before the registration it is needed for.
    steps = card.locator(".gb-step")
    expect(steps).to_have_count(len(payload["steps"]))
    expect(card.locator(".gb-step-num")).to_have_text([str(n) for n in range(1, steps.count() + 1)])
    titles = _step_titles(card)
    certificate = next(i for i, t in enumerate(titles) if "出生医学证明" in t)
    registration = next(i for i, t in enumerate(titles) if "户口" in t or "出生登记" in t)
    assert certificate < registration, titles
    expect(steps.nth(registration)).to_contain_text(f"第{certificate + 1}步办完后办")
    for n, step in enumerate(payload["steps"]):
        shown = steps.nth(n)
        expect(shown).to_contain_text("即办" if step["days"] == 0 else f"{step['days']}个工作日")
        expect(shown.locator(".gb-online")).to_have_count(1 if step["fully_online"] else 0)
        expect(shown.locator(".gb-critical")).to_have_count(1 if step["critical"] else 0)
        if step["when"]:
            expect(shown).to_contain_text("按需：")
    expect(card.locator(".gb-summary")).to_contain_text(
        re.compile(rf"共{len(payload['steps'])}步.*最多跑{payload['hall_visits']}次大厅")
    )
    # The step buttons live in the timeline, not again among the quick replies.
    bubble = page.get_by_role("log").locator(".gb-row-bot").last
    expect(bubble.locator(".gb-reply", has_text=re.compile(r"^第\d+步"))).to_have_count(0)
    expect(bubble.get_by_role("button", name="申请免费代办")).to_be_visible()
    # Every step's guide is cited; on a phone all but the first fold away under one line.
    expect(bubble.locator(".gb-sources > .gb-source")).to_have_count(1)
    more = bubble.locator(".gb-more-sources")
    expect(more.locator("summary")).to_have_text(re.compile(r"另有 \d+ 份办事指南来源"))
    expect(more.locator(".gb-source").first).to_be_hidden()
    more.locator("summary").click()
    expect(more.locator(".gb-source").first).to_be_visible()

    # One merged checklist: the 户口本 asked once for every step that needs it.
    register = _line(card, HOUSEHOLD_REGISTER)
    expect(register).to_have_count(1)
    expect(register).to_contain_text(re.compile(r"第\d+(、\d+)+步用"))
    expect(register.get_by_role("checkbox")).to_have_count(1)
    # What an earlier step issues, or the hall fetches, is listed with nothing to tick.
    issued = next(m for m in payload["materials"] if m["obtained_from"] is not None)
    expect(_line(card, issued["name"])).to_contain_text(f"第{issued['obtained_from']}步办出")
    expect(_line(card, issued["name"]).get_by_role("checkbox")).to_have_count(0)
    fetched = next(m for m in payload["materials"] if m["e_license"] and m["required"])
    expect(_line(card, fetched["name"])).to_contain_text("电子证照，免带")
    expect(_line(card, fetched["name"]).get_by_role("checkbox")).to_have_count(0)
    _no_sideways_scrolling(page)
    _screenshot(page, "bundle-card")

    ask = card.get_by_role("button", name="看看还缺什么")
    expect(ask).to_be_disabled()
    # Two things the family has, not the 户口本: that is what the pre-check must still ask for.
    names = [
        str(n).strip()
        for n in card.locator(".gb-checklist")
        .first.locator(".gb-material:has(input) .gb-mname")
        .all_text_contents()
    ]
    ticked = [n for n in names if n != HOUSEHOLD_REGISTER][:2]
    assert len(ticked) == 2, names
    for name in ticked:
        _line(card, name).get_by_role("checkbox").check()
    expect(card.locator(".gb-progress")).to_contain_text("已备齐 2/")
    expect(ask).to_be_enabled()
    ask.click()

    # Led by the card's event, so the pre-check is of this list whatever was said since.
    said = f"「{payload['name']}」我有：{'、'.join(ticked)}，还缺什么？"
    expect(_said(page).last).to_have_text(said)
    reply = _last_bot(page)
    expect(reply.locator(".gb-verdict")).to_contain_text("带齐后再去", timeout=REPLY_MS)
    expect(reply).to_contain_text("材料预审")
    expect(reply).to_contain_text("不是审批结果")
    text = reply.locator(".gb-text").first.inner_text()
    missing = next((line for line in text.splitlines() if "还缺：" in line), "")
    assert HOUSEHOLD_REGISTER in missing, text
    assert not any(name in missing for name in ticked), text
    _screenshot(page, "bundle")


def test_ticks_survive_a_reload_and_a_step_asks_about_itself(phone: Page) -> None:
    page = phone
    _open(page)
    card, _ = _ask_bundle(page)
    first = card.locator(".gb-checklist").first.get_by_role("checkbox").first
    first.check()

    page.reload()
    expect(page.get_by_role("dialog", name="贵博士")).to_be_visible()
    card = page.get_by_role("log").locator(".gb-bundle").last
    expect(card.locator(".gb-checklist").first.get_by_role("checkbox").first).to_be_checked()
    expect(card.get_by_role("button", name="看看还缺什么")).to_be_enabled()

    titles = _step_titles(card)
    registration = next(i for i, t in enumerate(titles) if "户口" in t or "出生登记" in t)
    answers = page.get_by_role("log").locator(".gb-row-bot")
    before = answers.count()
    card.locator(".gb-step-ask").nth(registration).click()
    expect(_said(page).last).to_contain_text(f"第{registration + 1}步")
    # The answer is about that step's own service.
    expect(answers.nth(before)).to_contain_text("出生登记", timeout=REPLY_MS)
    expect(answers.nth(before).locator(".gb-bundle")).to_have_count(0)


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_bundle_card_and_verdict_have_enough_contrast(phone: Page, elder: bool) -> None:
    page = phone
    _open(page)
    if elder:
        page.get_by_role("button", name="适老化", exact=True).click()
    card, _ = _ask_bundle(page)
    card.locator(".gb-more > summary").click()  # the folded 按情况 lines too
    card.locator(".gb-checklist").first.get_by_role("checkbox").first.check()
    card.get_by_role("button", name="看看还缺什么").click()
    expect(_last_bot(page).locator(".gb-verdict")).to_be_visible(timeout=REPLY_MS)
    _check(page, 7.0 if elder else 4.5, {"看看还缺什么", "关键步骤", "网办", "材料预审"})
