"""The 贵博士 web widget in a real browser (Debian's Chromium) against the real stack.

Needs /usr/bin/chromium and CJK fonts: `bash scripts/setup_browser.sh`. Screenshots go to
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from services.identity import id_check_char
from tests.e2e.conftest import ARTIFACTS, Stack

pytestmark = pytest.mark.e2e

SERVICE = "高龄补贴申领"
ID_NUMBER = "520302194503010024"
PHONE = "13800138000"
QUESTION = "高龄补贴要带哪些材料"
# The first answer can wait on the action server; everything else is quick.
REPLY_MS = 60_000

expect.set_options(timeout=15_000)

# One booking per person and service: each booking in these tests is made by another resident.
_RESIDENTS = (f"52030219450301{n:03d}" for n in itertools.count(100))


def _resident_id() -> str:
    first17 = next(_RESIDENTS)
    return first17 + id_check_char(first17)


def _new_page(
    browser: Browser, stack: Stack, width: int, height: int, phone: bool = False, clipboard: bool = False
) -> Iterator[Page]:
    # The halls keep Beijing time; so must the widget's list of booking dates.
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": width, "height": height},
        is_mobile=phone,
        has_touch=phone,
    )
    if clipboard:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
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


def _said(page: Page) -> Locator:
    """What the resident sent, one element per message."""
    return page.get_by_role("log").locator(".gb-row-user .gb-text")


def _last_bot(page: Page) -> Locator:
    return page.get_by_role("log").locator(".gb-row-bot").last


def _scroller_offsets(locator: Locator) -> dict[str, float]:
    """Where the element's top and bottom are, in px from the top of the chat's scrolling area."""
    return dict(
        locator.evaluate(
            """el => {
                const view = el.closest('.gb-scroll').getBoundingClientRect();
                const box = el.getBoundingClientRect();
                return {top: box.top - view.top, bottom: box.bottom - view.top, height: view.height};
            }"""
        )
    )


def _lines(locator: Locator) -> int:
    """On how many lines the element's text is laid out."""
    return int(
        locator.evaluate(
            """el => {
                const range = document.createRange();
                range.selectNodeContents(el);
                return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
            }"""
        )
    )


def _ask_materials(page: Page) -> Locator:
    """Asks the materials question; returns the answer's bubble once its checklist is shown."""
    answers = page.locator(".gb-bot", has=page.locator(".gb-checklist"))
    before = answers.count()
    _ask(page, QUESTION)
    expect(answers).to_have_count(before + 1, timeout=REPLY_MS)
    return answers.last


def _font_px(locator: Locator) -> float:
    return float(locator.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))


def test_materials_checklist_source_rating_and_quick_reply(page: Page) -> None:
    _open(page)
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    answer = _ask_materials(page)
    expect(_said(page).last).to_have_text(QUESTION)

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
    expect(_said(page).last).to_have_text("我符合条件吗")
    expect(_last_bot(page)).to_contain_text("户口在遵义市吗", timeout=REPLY_MS)
    _last_bot(page).get_by_role("button", name="是", exact=True).click()
    expect(_last_bot(page)).to_contain_text("多大", timeout=REPLY_MS)
    _ask(page, "我今年八十五了")
    expect(_last_bot(page)).to_contain_text("符合", timeout=REPLY_MS)
    expect(_last_bot(page)).to_contain_text(f"《{SERVICE}》", timeout=REPLY_MS)


def _first_free_slot(stack: Stack, at_least: int = 1) -> tuple[str, str, dt.date, dt.datetime]:
    """(hall id, hall name, day, slot start) the widget will offer first: its first hall with the service,
    the first day the slots API has ``at_least`` free slots on (late in the afternoon, today has few)."""
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
            if len(free) >= at_least:
                return hall, offers[0]["hall_name"], day, dt.datetime.fromisoformat(free[0]["start"])
    raise AssertionError("no free slot in the next 14 days")


def _open_booking_form(page: Page, stack: Stack) -> tuple[Locator, str, dt.date, dt.datetime]:
    """Asks the materials question, taps 预约办理, picks the first free slot: (form, hall, day, start)."""
    answer = _ask_materials(page)
    answer.get_by_role("button", name="预约办理").click()
    expect(_said(page).last).to_have_text("预约办理")
    form = page.get_by_role("form", name=f"预约办理：{SERVICE}")
    hall_select = form.locator("select[name=hall]")
    expect(hall_select).to_be_visible()
    hall, hall_name, day, start = _first_free_slot(stack)
    expect(hall_select.locator("option:checked")).to_have_text(hall_name)
    form.locator("select[name=day]").select_option(day.isoformat())
    slot = form.get_by_role("button", name=re.compile(f"^{start:%H:%M}，余"))
    slot.click()
    expect(slot).to_have_attribute("aria-pressed", "true")
    return form, hall, day, start


def _book(page: Page, stack: Stack) -> tuple[Locator, str, str, dt.datetime]:
    """Books through the widget's form: (confirmation card, code, hall id, start)."""
    form, hall, _, start = _open_booking_form(page, stack)
    form.locator("input[name=name]").fill("张三")
    form.locator("input[name=id_number]").fill(_resident_id())
    form.locator("input[name=phone]").fill(PHONE)
    form.get_by_role("button", name="确认预约").click()
    confirmation = page.locator(".gb-confirmation").last
    expect(confirmation).to_contain_text("预约成功")
    code = confirmation.locator(".gb-code strong").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{8}", code), code
    return confirmation, code, hall, start


def test_booking_an_appointment_in_the_widget(page: Page, stack: Stack) -> None:
    _open(page)
    form, hall, _, start = _open_booking_form(page, stack)
    # The form is not a message: it is outside the log a screen reader reads out.
    expect(page.get_by_role("log").locator("form")).to_have_count(0)
    form.locator("input[name=name]").fill("张三")
    form.locator("input[name=id_number]").fill(ID_NUMBER)

    form.locator("input[name=phone]").fill("1380013")
    form.get_by_role("button", name="确认预约").click()
    expect(form.get_by_role("alert")).to_contain_text("手机号应为11位")

    form.locator("input[name=phone]").fill(PHONE)
    _screenshot(page, "booking-form")
    form.get_by_role("button", name="确认预约").click()

    confirmation = page.locator(".gb-confirmation").last
    expect(confirmation).to_contain_text("预约成功")
    expect(form).to_have_count(0)
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

    # A toggle: its name stays the same, aria-pressed says whether it is on.
    elder = page.get_by_role("button", name="适老化", exact=True)
    expect(elder).to_have_attribute("aria-pressed", "false")
    elder.click()
    expect(elder).to_have_attribute("aria-pressed", "true")
    assert elder.get_attribute("aria-label") is None
    large = _font_px(text)
    assert large >= 20 and large > normal, (normal, large)
    _screenshot(page, "elder-mode")

    page.reload()
    dialog = page.get_by_role("dialog", name="贵博士")
    expect(dialog).to_be_visible()
    expect(_said(page).first).to_have_text(QUESTION)
    answer = page.locator(".gb-bot", has=page.locator(".gb-checklist")).last
    expect(answer.locator(".gb-material").nth(1).get_by_role("checkbox")).to_be_checked()
    expect(answer.locator(".gb-material").first.get_by_role("checkbox")).not_to_be_checked()
    expect(page.get_by_role("button", name="适老化", exact=True)).to_have_attribute("aria-pressed", "true")
    assert _font_px(answer.locator(".gb-text").first) >= 20


def test_keyboard_escaping_and_handoff(page: Page) -> None:
    launcher = page.get_by_role("button", name="打开贵博士智能客服")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("输入您想咨询的问题")).to_be_focused()

    hostile = '<img src=x onerror="window.__pwned=1">**粗体**'
    bots = page.locator(".gb-row-bot").count()
    _ask(page, hostile)
    expect(_said(page).last).to_have_text(hostile)
    expect(page.locator(".gb-typing")).to_be_hidden(timeout=REPLY_MS)
    assert page.locator(".gb-row-bot").count() > bots
    assert page.locator(".gb img").count() == 0
    assert page.evaluate("window.__pwned === undefined")

    page.get_by_role("button", name="转人工客服").click()
    expect(_said(page).last).to_have_text("转人工")
    expect(_last_bot(page)).to_contain_text("工单号", timeout=REPLY_MS)

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="贵博士")).to_be_hidden()
    expect(launcher).to_be_focused()


def test_every_message_says_who_spoke(page: Page) -> None:
    dialog = _open(page)
    expect(dialog).to_have_attribute("aria-modal", "false")  # beside the page, not over it
    _ask(page, "你好")
    expect(page.locator(".gb-typing")).to_be_hidden(timeout=REPLY_MS)
    rows = page.get_by_role("log").locator(".gb-row")
    assert rows.count() >= 3
    # What a screen reader reads first in each message: who said it; sighted users see no label.
    spoken = rows.evaluate_all("rows => rows.map(r => [r.className, r.textContent.trim()])")
    for classes, text in spoken:
        speaker = "我说：" if "gb-row-user" in classes else "贵博士说："
        assert text.startswith(speaker), (classes, text)
    label = page.get_by_role("log").locator(".gb-row-user .gb-sr").last
    box = label.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1, box


def test_phone_screen_shows_the_panel_full_screen(phone_page: Page) -> None:
    dialog = _open(phone_page)
    box = dialog.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844), box
    # Covering the page, the panel is modal: Tab goes round inside it.
    expect(dialog).to_have_attribute("aria-modal", "true")
    first = phone_page.get_by_role("button", name="适老化", exact=True)
    last = phone_page.get_by_role("button", name="发送")
    first.focus()
    phone_page.keyboard.press("Shift+Tab")
    expect(last).to_be_focused()
    phone_page.keyboard.press("Tab")
    expect(first).to_be_focused()
    _ask_materials(phone_page)
    _screenshot(phone_page, "phone")


def test_elder_mode_on_a_phone(phone_page: Page, stack: Stack) -> None:
    page = phone_page
    _open(page)
    page.get_by_role("button", name="适老化", exact=True).click()
    title = page.locator("#gb-title")
    expect(title).to_have_text("贵博士")
    assert _font_px(title) >= 24
    assert _lines(title) == 1, "the title breaks across lines"

    box = page.get_by_label("输入您想咨询的问题")
    fits = box.evaluate(
        """el => {
            const style = getComputedStyle(el);
            const pen = document.createElement('canvas').getContext('2d');
            pen.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
            return [pen.measureText(el.placeholder).width, room];
        }"""
    )
    assert fits[0] <= fits[1], f"placeholder {fits[0]}px wide in {fits[1]}px"

    # A long answer: the resident sees where it starts, not its rating stars.
    answer = _ask_materials(page)
    page.wait_for_function(
        """() => {
            const host = document.querySelector('#guiboshi-widget').shadowRoot;
            const view = host.querySelector('.gb-scroll');
            const checklists = [...host.querySelectorAll('.gb-bot .gb-checklist')];
            const answer = checklists.at(-1).closest('.gb-bot');
            const top = answer.getBoundingClientRect().top - view.getBoundingClientRect().top;
            return top >= 0 && top <= 24;
        }"""
    )
    where = _scroller_offsets(answer)
    assert where["bottom"] > where["height"], "the answer was short enough to fit; nothing was tested"
    stars = _scroller_offsets(answer.get_by_role("group", name="为这个回答评分"))
    assert stars["top"] >= where["height"], "the view shows the rating stars, not the start of the answer"
    _screenshot(page, "phone-elder-answer")

    answer.get_by_role("button", name="预约办理").click()
    form = page.get_by_role("form", name=f"预约办理：{SERVICE}")
    _, _, day, _ = _first_free_slot(stack, at_least=4)
    form.locator("select[name=day]").select_option(day.isoformat())
    slots = form.locator(".gb-slot")
    expect(slots.first).to_be_visible()
    assert slots.count() >= 4
    for slot in slots.all():
        assert re.fullmatch(r"\d\d:\d\d", slot.inner_text()), slot.inner_text()
        assert _lines(slot) == 1, f"{slot.inner_text()} wraps"
    _screenshot(page, "phone-elder-booking")

    _assert_large_controls(page)

    form.locator("input[name=name]").fill("张三")
    form.locator("input[name=id_number]").fill(_resident_id())
    form.locator("input[name=phone]").fill(PHONE)
    form.locator(".gb-slot:enabled").first.click()
    form.get_by_role("button", name="确认预约").click()
    card = page.locator(".gb-confirmation").last
    expect(card).to_contain_text("预约成功")
    expect(card.locator(".gb-code")).to_be_in_viewport()  # the answer is shown from its start
    _assert_large_controls(page)
    _screenshot(page, "phone-elder-confirmed")


def _assert_large_controls(page: Page) -> None:
    """48 px targets for every control in the panel, and no text smaller than 20 px on them."""
    sizes = page.locator("#gb-panel").evaluate(
        """panel => [...panel.querySelectorAll('button, select, input:not([type=checkbox]), textarea')]
            .filter(el => el.getClientRects().length && !el.closest('.gb-sr'))
            .map(el => [el.textContent.trim() || el.name || el.className, el.getBoundingClientRect().height,
                        parseFloat(getComputedStyle(el).fontSize)])"""
    )
    assert len(sizes) > 15
    small = [(name, height, font) for name, height, font in sizes if height < 47.5 or font < 20]
    assert not small, small


def test_a_long_message_is_not_cut_and_the_limit_is_said(page: Page, stack: Stack) -> None:
    limit = stack.settings.gateway.max_text_chars
    _open(page)
    box = page.get_by_label("输入您想咨询的问题")
    counter = page.locator(".gb-counter")
    warning = page.locator(".gb-limit")
    question = "我想问高龄补贴要带哪些材料？"
    story = ("我家老人今年八十五岁，户口在汇川区，" * 60)[: limit + 100 - len(question)] + question
    assert len(story) == limit + 100

    box.fill("高龄补贴")
    expect(counter).to_be_hidden()
    box.fill(story)
    expect(box).to_have_value(story)  # nothing cut, the question at the end is still there
    expect(counter).to_have_text(f"{limit + 100}/{limit}字")
    expect(warning).to_contain_text(f"超过{limit}字")
    expect(box).to_have_attribute("aria-invalid", "true")
    bots = page.get_by_role("log").locator(".gb-row").count()
    box.press("Enter")
    expect(warning).to_contain_text("请删减或分几次发送")
    expect(box).to_have_value(story)
    assert page.get_by_role("log").locator(".gb-row").count() == bots, "a message over the limit was sent"
    _screenshot(page, "over-the-limit")

    # Exactly at the limit the gateway takes it: the widget counts as the gateway does.
    box.fill(story[-limit:])
    expect(counter).to_have_text(f"{limit}/{limit}字")
    expect(warning).to_be_empty()
    box.press("Enter")
    expect(_said(page).last).to_have_text(story[-limit:])
    expect(box).to_have_value("")
    expect(counter).to_be_hidden()
    expect(page.locator(".gb-typing")).to_be_hidden(timeout=REPLY_MS)
    expect(_last_bot(page)).not_to_contain_text("精简")
    refused = httpx.post(
        f"{stack.url}/api/chat",
        json={"sender_id": "web:limit-check", "text": story[-limit - 1 :], "channel": "web"},
        timeout=60,
    ).json()
    assert f"{limit}字以内" in refused["messages"][0]["text"], refused
