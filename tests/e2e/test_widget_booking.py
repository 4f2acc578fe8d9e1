"""The widget's booking form and confirmation card in Chromium against the real stack: the form
survives questions and reloads and asks before throwing typed data away; the card copies its
code and cancels or moves the booking through the dialogue."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from services.models import AppointmentStatus
from tests.e2e.conftest import Stack
from tests.e2e.test_widget_browser import (
    PHONE,
    REPLY_MS,
    SERVICE,
    _ask,
    _book,
    _first_free_slot,
    _last_bot,
    _new_page,
    _open,
    _open_booking_form,
    _said,
    _screenshot,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    yield from _new_page(browser, stack, 1280, 900, clipboard=True)


def test_the_booking_form_survives_a_question_and_a_reload(page: Page, stack: Stack) -> None:
    _open(page)
    form, _, day, start = _open_booking_form(page, stack)
    slot_name = re.compile(f"^{start:%H:%M}，余")
    form.locator("input[name=name]").fill("张三")
    form.locator("input[name=id_number]").fill("5203021945")

    # The resident asks something while filling in the form: the answer comes, the form stays.
    _ask(page, "身份证是哪个的")
    expect(_said(page).last).to_have_text("身份证是哪个的")
    expect(page.locator(".gb-typing")).to_be_hidden(timeout=REPLY_MS)
    expect(_last_bot(page)).not_to_be_empty()
    expect(form.locator("input[name=name]")).to_have_value("张三")
    expect(form.locator("input[name=id_number]")).to_have_value("5203021945")
    expect(form.get_by_role("button", name=slot_name)).to_have_attribute("aria-pressed", "true")

    page.reload()
    form = page.get_by_role("form", name=f"预约办理：{SERVICE}")
    expect(form.locator("input[name=name]")).to_have_value("张三")
    expect(form.locator("input[name=id_number]")).to_have_value("5203021945")
    expect(form.locator("select[name=day]")).to_have_value(day.isoformat())
    expect(form.get_by_role("button", name=slot_name)).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("log").locator("form")).to_have_count(0)

    # Cancelling a filled form asks first; 继续填写 and Escape keep everything.
    form.get_by_role("button", name="取消", exact=True).click()
    expect(form.get_by_role("alert")).to_contain_text("已填写的信息会被清除")
    expect(form.get_by_role("button", name="继续填写")).to_be_focused()
    _screenshot(page, "booking-discard-question")
    page.keyboard.press("Escape")
    expect(form.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("dialog", name="贵博士")).to_be_visible()
    expect(form.locator("input[name=name]")).to_have_value("张三")

    # Another 预约办理 for the same service brings this form back instead of a blank one.
    answer = page.locator(".gb-bot", has=page.locator(".gb-checklist")).last
    answer.get_by_role("button", name="预约办理").click()
    expect(page.locator(".gb-booking")).to_have_count(1)
    expect(form.locator("input[name=name]")).to_have_value("张三")

    form.get_by_role("button", name="取消", exact=True).click()
    form.get_by_role("button", name="放弃预约").click()
    expect(page.locator(".gb-booking")).to_have_count(0)
    expect(page.get_by_label("输入您想咨询的问题")).to_be_focused()
    page.reload()
    expect(page.get_by_role("dialog", name="贵博士")).to_be_visible()
    expect(_said(page).last).to_have_text("身份证是哪个的")
    expect(page.locator(".gb-booking")).to_have_count(0)


def test_cancel_a_booking_from_its_card(page: Page, stack: Stack) -> None:
    _open(page)
    card, code, _, _ = _book(page, stack)

    card.get_by_role("button", name=f"复制预约码 {code}").click()
    expect(card.locator(".gb-copied")).to_have_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == code

    card.get_by_role("button", name="取消预约").click()
    expect(_said(page).last).to_have_text(f"取消预约（预约码 {code}）")
    # The dialogue checks the phone number the booking was made with, then confirms.
    expect(_last_bot(page)).to_contain_text("手机号", timeout=REPLY_MS)
    expect(page.get_by_label("输入您想咨询的问题")).to_be_focused()
    assert stack.services.booking(code).status is AppointmentStatus.booked
    _ask(page, PHONE)
    expect(_last_bot(page)).to_contain_text("确认取消这个预约吗", timeout=REPLY_MS)
    assert stack.services.booking(code).status is AppointmentStatus.booked
    expect(card.locator(".gb-badge")).to_have_count(0)
    _last_bot(page).get_by_role("button", name="确认取消").click()
    expect(_last_bot(page)).to_contain_text(f"已取消预约 {code}", timeout=REPLY_MS)
    assert stack.services.booking(code).status is AppointmentStatus.cancelled

    expect(card.locator(".gb-badge")).to_have_text("已取消")
    expect(card).to_contain_text("此预约已取消")
    expect(card.get_by_role("button", name="取消预约")).to_have_count(0)
    expect(card.get_by_role("link", name=re.compile(r"\.ics"))).to_have_count(0)
    _screenshot(page, "booking-cancelled")

    page.reload()
    card = page.locator(".gb-confirmation").last
    expect(card.locator(".gb-badge")).to_have_text("已取消")
    expect(card.get_by_role("button", name="取消预约")).to_have_count(0)


def test_move_a_booking_from_its_card(page: Page, stack: Stack) -> None:
    _open(page)
    card, code, _, start = _book(page, stack)

    card.get_by_role("button", name="改约").click()
    expect(_said(page).last).to_have_text(f"改约（预约码 {code}）")
    expect(_last_bot(page)).to_contain_text("手机号", timeout=REPLY_MS)
    _ask(page, PHONE)
    expect(_last_bot(page)).to_contain_text("哪天", timeout=REPLY_MS)
    expect(page.get_by_role("log")).to_contain_text("找到您的预约")
    # A day with another free slot besides the booked one (late in the afternoon, today may have none).
    _, _, day, _ = _first_free_slot(stack, at_least=2)
    days = _last_bot(page).get_by_role("group", name="快捷回复").get_by_role("button")
    days.filter(has_text=f"{day.month}月{day.day}日").click()
    expect(_last_bot(page)).to_contain_text("时段可约", timeout=REPLY_MS)
    times = _last_bot(page).get_by_role("group", name="快捷回复").get_by_role("button")
    other = times.filter(has_not_text=f"{start:%H:%M}-").last
    new_time = other.inner_text()[:5]
    other.click()
    expect(_last_bot(page)).to_contain_text("确认吗", timeout=REPLY_MS)
    assert stack.services.booking(code).start == start  # nothing moves before 确认改约
    _last_bot(page).get_by_role("button", name="确认改约").click()
    expect(_last_bot(page)).to_contain_text("改期成功", timeout=REPLY_MS)

    moved = stack.services.booking(code)
    assert moved.status is AppointmentStatus.booked and f"{moved.start:%H:%M}" == new_time
    expect(card).to_contain_text("已改期")
    expect(card.locator(".gb-facts")).to_contain_text(f"{moved.start:%Y-%m-%d %H:%M}")
