"""The 贵博士 web widget in a real browser (Debian's Chromium) against the real stack.

Needs /usr/bin/chromium and CJK fonts: `bash scripts/setup_browser.sh`. Screenshots go to
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import ARTIFACTS, Stack

pytestmark = pytest.mark.e2e

SERVICE = "高龄补贴申领"
QUESTION = "高龄补贴要带哪些材料"
# The first answer can wait on the action server; everything else is quick.
REPLY_MS = 60_000

expect.set_options(timeout=15_000)


def _new_page(browser: Browser, stack: Stack, width: int, height: int, phone: bool = False) -> Iterator[Page]:
    # The halls keep Beijing time; so must the widget's list of booking dates.
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": width, "height": height},
        is_mobile=phone,
        has_touch=phone,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.url}/")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    yield from _new_page(browser, stack, 1280, 900)


@pytest.fixture
def phone_page(browser: Browser, stack: Stack) -> Iterator[Page]:
    yield from _new_page(browser, stack, 390, 844, phone=True)


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"widget-{name}.png"))


def _open(page: Page) -> Locator:
    page.get_by_role("button", name="打开贵博士智能客服").click()
    dialog = page.get_by_role("dialog", name="贵博士")
    expect(dialog).to_be_visible()
    expect(page.get_by_label("输入您想咨询的问题")).to_be_focused()
    return dialog


def _ask(page: Page, text: str) -> None:
    box = page.get_by_label("输入您想咨询的问题")
    box.fill(text)
    box.press("Enter")


def _last_bot(page: Page) -> Locator:
    return page.locator(".gb-row-bot").last


def _ask_materials(page: Page) -> Locator:
    """Asks the materials question; returns the answer's bubble once its checklist is shown."""
    _ask(page, QUESTION)
    answer = page.locator(".gb-bot", has=page.locator(".gb-checklist")).last
    expect(answer).to_be_visible(timeout=REPLY_MS)
    return answer


def _font_px(locator: Locator) -> float:
    return float(locator.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))


def test_materials_checklist_source_rating_and_quick_reply(page: Page) -> None:
    _open(page)
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    answer = _ask_materials(page)
    expect(page.locator(".gb-row-user").last).to_have_text(QUESTION)

    items = answer.locator(".gb-material")
    assert items.count() >= 3
    expect(items.first).to_contain_text("1.")
    expect(items.nth(1)).to_contain_text("2.")
    expect(answer.locator(".gb-checklist")).to_contain_text("原件")
    expect(answer.locator(".gb-elicense").first).to_have_text("可用电子证照")
    source = answer.locator(".gb-source").first
    expect(source).to_contain_text(f"《{SERVICE}》")
    expect(source).to_contain_text("更新日期")
    expect(source).to_contain_text("示例数据")

    first = items.first.get_by_role("checkbox")
    first.check()
    expect(first).to_be_checked()
    expect(answer.locator(".gb-progress")).to_contain_text("已备齐 1/")

    answer.get_by_role("group", name="为这个回答评分").get_by_role("button", name="5分").click()
    expect(answer.locator(".gb-thanks")).to_contain_text("感谢您的评价（5分）")
    _screenshot(page, "materials")

    # The button starts the eligibility check: quick replies answer it, typing works too.
    answer.get_by_role("button", name="我符合条件吗").click()
    expect(page.locator(".gb-row-user").last).to_have_text("我符合条件吗")
    expect(_last_bot(page)).to_contain_text("户口在遵义市吗", timeout=REPLY_MS)
    _last_bot(page).get_by_role("button", name="是", exact=True).click()
    expect(_last_bot(page)).to_contain_text("多大", timeout=REPLY_MS)
    _ask(page, "我今年八十五了")
    expect(_last_bot(page)).to_contain_text("符合", timeout=REPLY_MS)
    expect(_last_bot(page)).to_contain_text(f"《{SERVICE}》", timeout=REPLY_MS)


def _first_free_slot(stack: Stack) -> tuple[str, str, dt.date, dt.datetime]:
    """(hall id, hall name, day, slot start) the widget will offer first: its first hall with the service,
    the first day the slots API has a free slot on."""
    with httpx.Client(base_url=f"{stack.url}/api/services", timeout=10) as api:
        offers = [
            offer
            for hall in api.get("/halls").json()
            for offer in api.get(f"/halls/{hall['id']}/services").json()
            if offer["service_name"] == SERVICE
        ]
        assert offers, f"no hall offers {SERVICE}"
        hall, service = offers[0]["hall_id"], offers[0]["service_id"]
        today = dt.datetime.now(ZoneInfo(stack.settings.services.timezone)).date()
        for offset in range(14):
            day = today + dt.timedelta(days=offset)
            response = api.get(f"/halls/{hall}/slots", params={"service_id": service, "day": day.isoformat()})
            free = [s for s in response.json() if s["remaining"] > 0] if response.status_code == 200 else []
            if free:
                return hall, offers[0]["hall_name"], day, dt.datetime.fromisoformat(free[0]["start"])
    raise AssertionError("no free slot in the next 14 days")


def test_booking_an_appointment_in_the_widget(page: Page, stack: Stack) -> None:
    _open(page)
    answer = _ask_materials(page)
    answer.get_by_role("button", name="预约办理").click()
    expect(page.locator(".gb-row-user").last).to_have_text("预约办理")
    form = page.get_by_role("form", name=f"预约办理：{SERVICE}")
    hall_select = form.locator("select[name=hall]")
    expect(hall_select).to_be_visible()

    hall, hall_name, day, start = _first_free_slot(stack)
    expect(hall_select.locator("option:checked")).to_have_text(hall_name)
    form.locator("select[name=day]").select_option(day.isoformat())
    form.get_by_role("button", name=re.compile(f"^{start:%H:%M}，余")).click()
    form.locator("input[name=name]").fill("张三")
    form.locator("input[name=id_number]").fill("520302194503010024")

    form.locator("input[name=phone]").fill("1380013")
    form.get_by_role("button", name="确认预约").click()
    expect(form.get_by_role("alert")).to_contain_text("手机号应为11位")

    form.locator("input[name=phone]").fill("13800138000")
    _screenshot(page, "booking-form")
    form.get_by_role("button", name="确认预约").click()

    confirmation = page.locator(".gb-confirmation").last
    expect(confirmation).to_contain_text("预约成功")
    code = confirmation.locator(".gb-code strong").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4,}", code), code
    expect(confirmation).to_contain_text(f"{start:%H:%M}")
    _screenshot(page, "booking-confirmed")

    booking = httpx.get(f"{stack.url}/api/services/appointments/{code}", timeout=10).json()
    assert booking["hall_id"] == hall and booking["status"] == "booked"
    assert booking["start"].startswith(start.isoformat()[:16])
    ics = confirmation.get_by_role("link", name=re.compile(r"\.ics"))
    calendar = httpx.get(str(ics.get_attribute("href")), timeout=10)
    assert calendar.status_code == 200 and "BEGIN:VCALENDAR" in calendar.text


def test_elder_mode_and_reload_keep_the_conversation(page: Page) -> None:
    _open(page)
    answer = _ask_materials(page)
    second = answer.locator(".gb-material").nth(1).get_by_role("checkbox")
    second.check()
    text = answer.locator(".gb-text").first
    normal = _font_px(text)

    elder = page.get_by_role("button", name=re.compile("适老化"))
    elder.click()
    expect(elder).to_have_attribute("aria-pressed", "true")
    large = _font_px(text)
    assert large >= 20 and large > normal, (normal, large)
    _screenshot(page, "elder-mode")

    page.reload()
    dialog = page.get_by_role("dialog", name="贵博士")
    expect(dialog).to_be_visible()
    expect(page.locator(".gb-row-user").first).to_have_text(QUESTION)
    answer = page.locator(".gb-bot", has=page.locator(".gb-checklist")).last
    expect(answer.locator(".gb-material").nth(1).get_by_role("checkbox")).to_be_checked()
    expect(answer.locator(".gb-material").first.get_by_role("checkbox")).not_to_be_checked()
    expect(page.get_by_role("button", name=re.compile("适老化"))).to_have_attribute("aria-pressed", "true")
    assert _font_px(answer.locator(".gb-text").first) >= 20


def test_keyboard_escaping_and_handoff(page: Page) -> None:
    launcher = page.get_by_role("button", name="打开贵博士智能客服")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("输入您想咨询的问题")).to_be_focused()

    hostile = '<img src=x onerror="window.__pwned=1">**粗体**'
    bots = page.locator(".gb-row-bot").count()
    _ask(page, hostile)
    expect(page.locator(".gb-row-user").last).to_have_text(hostile)
    expect(page.locator(".gb-typing")).to_be_hidden(timeout=REPLY_MS)
    assert page.locator(".gb-row-bot").count() > bots
    assert page.locator(".gb img").count() == 0
    assert page.evaluate("window.__pwned === undefined")

    page.get_by_role("button", name="转人工客服").click()
    expect(page.locator(".gb-row-user").last).to_have_text("转人工")
    expect(_last_bot(page)).to_contain_text("工单号", timeout=REPLY_MS)

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="贵博士")).to_be_hidden()
    expect(launcher).to_be_focused()


def test_phone_screen_shows_the_panel_full_screen(phone_page: Page) -> None:
    dialog = _open(phone_page)
    box = dialog.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844), box
    _ask_materials(phone_page)
    _screenshot(phone_page, "phone")
