"""Understand the day and time a resident asks for: 明天上午、下周三、12月3日、3号、下午两点半.

Relative Chinese expressions (后天、下个星期五、大后天) are not something the general date
libraries handle (dateparser reads 下周 poorly and knows nothing of 礼拜), so they are parsed
here, against a ``today`` the caller passes in — the services' clock, or a fixed day in tests.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Period = Literal["上午", "下午"]

_DIGITS = {char: value for value, char in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十]+")
_WEEKDAY = re.compile(r"(下下个?|下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
_NEXT_WEEK = re.compile(r"下(?:个)?(?:周|星期|礼拜)")
_FULL_DATE = re.compile(r"(20\d{2})[年./\-](\d{1,2})[月./\-](\d{1,2})[日号]?")
_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})(?:月|[./\-](?=\d))(\d{1,2})(?:[日号]|(?!\d))")
_DAY_ONLY = re.compile(r"(?<![\d月.:：])(\d{1,2})[日号]")
_CLOCK = re.compile(r"(?<!\d)(\d{1,2})(?:[:：](\d{2})|[点时](?:(\d{1,2})分?|(半))?)")
_RELATIVE_DAYS: tuple[tuple[str, int], ...] = (
    ("大后天", 3),
    ("后天", 2),
    ("明天", 1),
    ("明日", 1),
    ("明早", 1),
    ("明儿", 1),
    ("今天", 0),
    ("今日", 0),
    ("今儿", 0),
)
_MORNING = ("上午", "早上", "早晨", "明早", "上班")
_AFTERNOON = ("下午", "午后", "下班前")


@dataclass(frozen=True)
class When:
    """What a message says about an appointment time; any part may be missing."""

    day: dt.date | None = None
    period: Period | None = None
    clock: dt.time | None = None


def cn_to_int(numeral: str) -> int:
    """十二 → 12, 二十三 → 23, 两 → 2, 三十一 → 31; enough for days, months and hours."""
    if "十" not in numeral:
        value = 0
        for char in numeral:
            value = value * 10 + _DIGITS[char]
        return value
    tens, _, units = numeral.partition("十")
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


def normalise(text: str) -> str:
    """Full-width digits become ASCII and Chinese numerals become digits (星期一 is read before this)."""
    text = unicodedata.normalize("NFKC", text or "")
    return _NUMERAL.sub(lambda match: str(cn_to_int(match.group())), text)


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _weekday(text: str, today: dt.date) -> dt.date | None:
    match = _WEEKDAY.search(text)
    if match is None:
        if _NEXT_WEEK.search(text):  # 改到下周: the week starts on Monday
            return today + dt.timedelta(days=7 - today.weekday())
        return None
    which, name = match.groups()
    index = 6 if name in "日天7" else (int(name) - 1 if name.isdigit() else _DIGITS[name] - 1)
    monday = today - dt.timedelta(days=today.weekday())
    if which and which.startswith("下下"):
        return monday + dt.timedelta(days=14 + index)
    if which and which.startswith("下"):
        return monday + dt.timedelta(days=7 + index)
    day = monday + dt.timedelta(days=index)
    if which is None and day < today:  # a bare 周一 said on a Thursday means the coming Monday
        day += dt.timedelta(days=7)
    return day


def parse_day(text: str, today: dt.date) -> dt.date | None:
    """The calendar day a message names, or None. Past days are returned as they are: the caller
    says why they cannot be booked rather than silently moving them."""
    for word, offset in _RELATIVE_DAYS:
        if word in text:
            return today + dt.timedelta(days=offset)
    weekday = _weekday(text, today)
    if weekday is not None:
        return weekday
    plain = normalise(text)
    if match := _FULL_DATE.search(plain):
        return _safe_date(*(int(part) for part in match.groups()))
    if match := _MONTH_DAY.search(plain):
        month, day = int(match.group(1)), int(match.group(2))
        found = _safe_date(today.year, month, day)
        # 1月6号 asked in November is next January; 11月20日 asked on the 26th is simply past.
        if found is not None and found < today - dt.timedelta(days=60):
            found = _safe_date(today.year + 1, month, day)
        return found
    if match := _DAY_ONLY.search(plain):
        day = int(match.group(1))
        found = _safe_date(today.year, today.month, day)
        if found is None or found < today:  # 3号 said on the 26th is next month's
            month_after = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            found = _safe_date(month_after.year, month_after.month, day)
        return found
    return None


def parse_period(text: str) -> Period | None:
    if any(word in text for word in _MORNING):
        return "上午"
    if any(word in text for word in _AFTERNOON):
        return "下午"
    return None


def parse_clock(text: str, period: Period | None = None) -> dt.time | None:
    """9点、九点半、10:30、下午两点 → a time of day; 1–6 点 without 上午 means the afternoon."""
    match = _CLOCK.search(normalise(text))
    if match is None:
        return None
    hour = int(match.group(1))
    minute = int(match.group(2) or match.group(3) or 0) + (30 if match.group(4) else 0)
    if hour < 12 and (period == "下午" or (period is None and 1 <= hour <= 6)):
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_when(text: str, today: dt.date) -> When:
    period = parse_period(text)
    clock = parse_clock(text, period)
    if clock is not None and period is None:
        period = "上午" if clock < dt.time(12) else "下午"
    return When(day=parse_day(text, today), period=period, clock=clock)


def describe_day(day: dt.date, today: dt.date | None = None) -> str:
    """12月3日（星期四）, with 今天/明天/后天 in front when it is one of those."""
    names = {0: "今天", 1: "明天", 2: "后天"}
    near = names.get((day - today).days) if today else None
    label = f"{day.month}月{day.day}日（星期{'一二三四五六日'[day.weekday()]}）"
    return f"{near} {label}" if near else label
