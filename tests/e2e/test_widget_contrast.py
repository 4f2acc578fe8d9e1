"""Text contrast of the widget in Chromium, normal and 适老化 mode (WCAG 2 1.4.3 / 1.4.6).

Every visible piece of text in the widget's shadow root — buttons, placeholders and the value
shown in a select included — is checked: its computed colour, faded by the opacity of it and its
ancestors, against its background composited from the computed background colours up the tree
(over a white page). 4.5:1 in normal mode, 7:1 in 适老化 mode, for all sizes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Stack
from tests.e2e.test_widget_browser import (
    _book,
    _new_page,
    _open,
    _open_booking_form,
    _screenshot,
)

pytestmark = pytest.mark.e2e

CONTRAST = """
(minimum) => {
  const root = document.querySelector('#guiboshi-widget').shadowRoot;
  const parse = (text) => {
    const m = /^rgba?\\(([^)]*)\\)$/.exec(text.trim());
    if (!m) throw new Error(`unexpected colour ${text}`);
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, under) => {
    const a = top.a + under.a * (1 - top.a);
    const mix = (k) => (top[k] * top.a + under[k] * under.a * (1 - top.a)) / a;
    return {r: mix('r'), g: mix('g'), b: mix('b'), a};
  };
  const luminance = (c) => {
    const lin = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const parent = (el) =>
    el.parentElement || (el.getRootNode() instanceof ShadowRoot ? el.getRootNode().host : null);
  const background = (el) => {
    const layers = [];
    for (let n = el; n; n = parent(n)) {
      const style = getComputedStyle(n);
      if (style.backgroundImage !== 'none') throw new Error(`background image behind ${el.className}`);
      const bg = parse(style.backgroundColor);
      if (bg.a > 0) layers.push(bg);
      if (bg.a >= 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), {r: 255, g: 255, b: 255, a: 1});
  };
  const opacity = (el) => {
    let o = 1;
    for (let n = el; n; n = parent(n)) o *= Number(getComputedStyle(n).opacity);
    return o;
  };
  const ownText = (el) => {
    if (el.matches('input, textarea')) {
      if (el.type === 'checkbox') return null;
      return el.value ? [el.value, null] : el.placeholder ? [el.placeholder, '::placeholder'] : null;
    }
    if (el.matches('select')) return [el.selectedOptions[0]?.textContent || '', null];
    if (el.closest('select')) return null;
    const text = [...el.childNodes]
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent)
      .join('')
      .trim();
    return text ? [text, null] : null;
  };
  const results = [];
  for (const el of root.querySelectorAll('*')) {
    const own = ownText(el);
    if (!own) continue;
    const box = el.getBoundingClientRect();
    if (!el.checkVisibility({visibilityProperty: true}) || box.width <= 1 || box.height <= 1) continue;
    const [text, pseudo] = own;
    const colour = parse(getComputedStyle(el, pseudo).color);
    const bg = background(el);
    const shown = over({...colour, a: colour.a * opacity(el)}, bg);
    const value = ratio(shown, bg);
    results.push({
      text: text.slice(0, 24),
      where: `${el.tagName.toLowerCase()}.${el.className}`,
      pseudo,
      colour: getComputedStyle(el, pseudo).color,
      background: `rgb(${[bg.r, bg.g, bg.b].map((v) => v.toFixed(0)).join(', ')})`,
      ratio: Math.round(value * 100) / 100,
      ok: value >= minimum,
    });
  }
  return results;
}
"""


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    yield from _new_page(browser, stack, 1280, 900)


@pytest.fixture
def phone_page(browser: Browser, stack: Stack) -> Iterator[Page]:
    yield from _new_page(browser, stack, 390, 844, phone=True)


def _check(page: Page, minimum: float, must_include: set[str]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = page.evaluate(CONTRAST, minimum)
    checked = {r["text"] for r in results}
    assert must_include <= checked, f"not checked: {must_include - checked}"
    failures = [r for r in results if not r["ok"]]
    assert not failures, "\n".join(
        f"{r['ratio']}:1 < {minimum}:1 「{r['text']}」 {r['where']}{r['pseudo'] or ''}"
        f" {r['colour']} on {r['background']}"
        for r in failures
    )
    return results


def _everything_on_screen(page: Page, stack: Stack) -> None:
    """A guide card, a booking confirmation, an open booking form with a chosen slot, the handoff
    queue and the composer over its limit."""
    _open(page)
    _book(page, stack)
    _open_booking_form(page, stack)
    page.get_by_role("button", name="转人工客服").click()
    expect(page.locator(".gb-queue")).to_be_visible(timeout=60_000)
    page.get_by_label("输入您想咨询的问题").fill("问" * (stack.settings.gateway.max_text_chars + 1))
    expect(page.locator(".gb-limit")).not_to_be_empty()


SEEN = {"发送", "确认预约", "取消预约", "改约", "复制", "贵博士", "适老化", "转人工", "结束等待", "已备齐 0/"}


def _seen(results: list[dict[str, Any]]) -> set[str]:
    return {next((s for s in SEEN if r["text"].startswith(s)), r["text"]) for r in results}


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_all_text_has_enough_contrast(page: Page, stack: Stack, elder: bool) -> None:
    minimum = 7.0 if elder else 4.5
    if elder:
        page.get_by_role("button", name="打开贵博士智能客服").click()
        page.get_by_role("button", name="适老化", exact=True).click()
        page.get_by_role("button", name="关闭对话窗口").click()
    # The launcher, alone on the page.
    _check(page, minimum, {"贵博士"})
    _everything_on_screen(page, stack)
    found = _seen(_check(page, minimum, set()))
    assert found >= SEEN, f"not on screen: {SEEN - found}"
    _screenshot(page, f"contrast-{'elder' if elder else 'normal'}")


def test_placeholder_and_disabled_slots_on_a_phone_in_elder_mode(phone_page: Page, stack: Stack) -> None:
    page = phone_page
    _open(page)
    page.get_by_role("button", name="适老化", exact=True).click()
    results = _check(page, 7.0, {"请输入您想咨询的问题"})
    assert any(r["pseudo"] == "::placeholder" for r in results)
    _open_booking_form(page, stack)
    _check(page, 7.0, {"确认预约", "办理大厅"})
