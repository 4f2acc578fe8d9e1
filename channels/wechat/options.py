"""Numbered options in a text chat: what "回复 N …" shows, and what a bare number then means.

WeChat text replies have no buttons, so a reply's buttons become "回复 N 标题" lines and the
resident answers with the number. The list shown last is kept per resident in the store (shared
by every gateway when it is Redis), so the answer may reach any gateway.

* Up to 9 options are shown at once, one keystroke each. A longer list (a day's booking slots)
  shows 8 at a time and "回复 0 更多" pages on; the numbers run through the whole list (9, 10, …
  on the second page), so a number the resident sees anywhere in the chat keeps its meaning.
* A bare number that picks nothing never reaches the dialogue, which would read "7" as whatever
  intent it resembles (再见, 好的): it gets the list again, or a hint when nothing is pending.
* Except when the last question asks for a quantity (多大年纪, 多少个会员, 多久): then numbers are
  the answer, and the options (不清楚) are shown as words to type, not numbers that would collide.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from channels.messages import Button
from channels.wechat.store import Store
from services.log_privacy import pseudonym

log = logging.getLogger("zunyi.wechat")

MAX_SHOWN = 9  # a list this long is shown whole: one keystroke per option
PAGE_SIZE = 8  # a longer one 8 at a time, the ninth line being "回复 0 更多"
MAX_OPTIONS = 99  # numbers of at most two digits
MAX_TITLE_CHARS = 40

NOTHING_PENDING = (
    "这个数字没有对应的选项。您可以直接说想办的事，比如“低保要带哪些材料”“预约办理”“查询办件进度”，"
    "也可以发送位置找最近的政务服务大厅。"
)

_NUMBER = re.compile(r"^\s*([0-9０-９]{1,2})\s*[.。、,，!！]?\s*$")
# The question being asked is the last sentence ending in ？; a quantity asked there means a bare
# number answers it. Only that sentence: a greeting mentioning 多久办好 asks nothing of the kind.
_QUESTION = re.compile(r"[^。！？!?\n]*[？?]")
_QUANTITY = re.compile(r"多大|多少|多久|几岁|年纪|周岁")


class Offer(BaseModel):
    """The options last shown to one resident, and which page of them is on screen."""

    options: list[Button]
    page: int = 0
    numbers_are_answers: bool = False

    @property
    def paged(self) -> bool:
        return len(self.options) > MAX_SHOWN

    @property
    def pages(self) -> int:
        return -(-len(self.options) // PAGE_SIZE) if self.paged else 1

    def block(self) -> str:
        """The lines shown for the current page."""
        if self.numbers_are_answers:
            words = "、".join(f"“{_short(b.title)}”" for b in self.options)
            return f"也可以直接回复{words}" if words else ""
        if not self.paged:
            return "\n".join(_line(n, b) for n, b in enumerate(self.options, start=1))
        first = self.page * PAGE_SIZE
        shown = self.options[first : first + PAGE_SIZE]
        lines = [_line(n, b) for n, b in enumerate(shown, start=first + 1)]
        last_page = self.page == self.pages - 1
        lines.append("回复 0 回到第 1 项" if last_page else f"回复 0 更多（共 {len(self.options)} 项）")
        return "\n".join(lines)

    def next_page(self) -> Offer:
        return self.model_copy(update={"page": (self.page + 1) % self.pages})


def offer_for(options: list[Button], last_text: str | None) -> Offer | None:
    """What to keep after a reply whose buttons are ``options`` and whose last text is ``last_text``."""
    numbers_are_answers = asks_for_quantity(last_text or "")
    if not options and not numbers_are_answers:
        return None
    return Offer(options=options[:MAX_OPTIONS], numbers_are_answers=numbers_are_answers)


def asks_for_quantity(text: str) -> bool:
    questions = _QUESTION.findall(text)
    return bool(questions) and bool(_QUANTITY.search(questions[-1]))


def read_number(text: str) -> int | None:
    """The number in a message that is only a number ("3", "３", "3。"), else None."""
    match = _NUMBER.match(text)
    if not match:
        return None
    return int("".join(str(unicodedata.digit(c)) for c in match.group(1)))


@dataclass(frozen=True)
class Choose:
    """Ask the dialogue with this option's payload instead of what was typed."""

    payload: str


@dataclass(frozen=True)
class Show:
    """Answer here, without the dialogue; keep ``offer`` (None: nothing pending, nothing to keep)."""

    text: str
    offer: Offer | None


@dataclass(frozen=True)
class Pass:
    """Ask the dialogue with the resident's own words."""


Outcome = Choose | Show | Pass


def interpret(text: str, offer: Offer | None) -> Outcome:
    number = read_number(text)
    if number is None or (offer is not None and offer.numbers_are_answers):
        return Pass()
    if offer is None or not offer.options:
        return Show(NOTHING_PENDING, None)
    if 1 <= number <= len(offer.options):
        return Choose(offer.options[number - 1].payload)
    if number == 0 and offer.paged:
        following = offer.next_page()
        lead = f"更多选项（第 {following.page + 1}/{following.pages} 页）："
        return Show(f"{lead}\n{following.block()}", following)
    return Show(f"请回复列表中的数字 1—{len(offer.options)}：\n{offer.block()}", offer)


class OfferBook:
    """The offers in the store, one per resident, forgotten after ``ttl`` seconds."""

    def __init__(self, store: Store, ttl: float) -> None:
        self._store = store
        self._ttl = ttl

    async def get(self, openid: str) -> Offer | None:
        stored = await self._store.get(_key(openid))
        if stored is None:
            return None
        try:
            return Offer.model_validate_json(stored)
        except ValidationError:
            log.warning("unreadable options record for %s ignored", pseudonym(f"wechat:{openid}"))
            return None

    async def keep(self, openid: str, offer: Offer | None) -> None:
        if offer is None:
            # Old options must not answer a "1" meant for something else.
            await self._store.delete(_key(openid))
        else:
            await self._store.put(_key(openid), offer.model_dump_json(), self._ttl)


def _key(openid: str) -> str:
    return f"options:{openid}"


def _short(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"


def _line(number: int, button: Button) -> str:
    return f"回复 {number} {_short(button.title)}"
