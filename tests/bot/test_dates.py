"""Day and time expressions against a fixed today (Thursday 26 November 2026)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.actions.dates import When, cn_to_int, describe_day, parse_clock, parse_day, parse_when

TODAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天", dt.date(2026, 11, 26)),
        ("明天上午", dt.date(2026, 11, 27)),
        ("后天", dt.date(2026, 11, 28)),
        ("大后天下午", dt.date(2026, 11, 29)),
        ("下周一", dt.date(2026, 11, 30)),
        ("下周三上午", dt.date(2026, 12, 2)),
        ("下个星期五", dt.date(2026, 12, 4)),
        ("下礼拜二", dt.date(2026, 12, 1)),
        ("下下周一", dt.date(2026, 12, 7)),
        ("周五", dt.date(2026, 11, 27)),
        ("星期一", dt.date(2026, 11, 30)),
        ("这周二", dt.date(2026, 11, 24)),
        ("礼拜天", dt.date(2026, 11, 29)),
        ("改到下周", dt.date(2026, 11, 30)),
        ("12月3日", dt.date(2026, 12, 3)),
        ("十二月三号", dt.date(2026, 12, 3)),
        ("12.3", dt.date(2026, 12, 3)),
        ("2026-12-08", dt.date(2026, 12, 8)),
        ("1月6号", dt.date(2027, 1, 6)),
        ("11月20日", dt.date(2026, 11, 20)),
        ("3号", dt.date(2026, 12, 3)),
        ("三十号上午", dt.date(2026, 11, 30)),
        ("２８号", dt.date(2026, 11, 28)),
    ],
)
def test_days(text: str, expected: dt.date) -> None:
    assert parse_day(text, TODAY) == expected


@pytest.mark.parametrize("text", ["", "随便", "2月30日", "帮我约一下", "上午"])
def test_no_day(text: str) -> None:
    assert parse_day(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9点", dt.time(9)),
        ("九点半", dt.time(9, 30)),
        ("10:30", dt.time(10, 30)),
        ("１４：００", dt.time(14)),
        ("下午两点", dt.time(14)),
        ("两点", dt.time(14)),
        ("上午10点30分", dt.time(10, 30)),
        ("明天", None),
        ("25点", None),
    ],
)
def test_clock(text: str, expected: dt.time | None) -> None:
    assert parse_clock(text, "下午" if "下午" in text else None) == expected


def test_when_combines_day_period_and_clock() -> None:
    assert parse_when("明天下午三点", TODAY) == When(dt.date(2026, 11, 27), "下午", dt.time(15))
    assert parse_when("后天上午", TODAY) == When(dt.date(2026, 11, 28), "上午", None)
    assert parse_when("9点半", TODAY) == When(None, "上午", dt.time(9, 30))
    assert parse_when("明早", TODAY) == When(dt.date(2026, 11, 27), "上午", None)


def test_numerals() -> None:
    assert [cn_to_int(n) for n in ["三", "十", "十二", "二十", "三十一", "两"]] == [3, 10, 12, 20, 31, 2]


def test_describe_day() -> None:
    assert describe_day(dt.date(2026, 11, 27), TODAY) == "明天 11月27日（星期五）"
    assert describe_day(dt.date(2026, 12, 3)) == "12月3日（星期四）"
