from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from services.workdays import (
    CalendarUnknown,
    add_working_days,
    holiday_name,
    is_open,
    is_working_day,
    working_days_between,
)

D = dt.date


def test_national_day_is_closed_and_named() -> None:
    assert not is_open(D(2026, 10, 1))
    assert holiday_name(D(2026, 10, 1)) == "国庆节"
    assert not is_open(D(2026, 9, 25))  # 中秋节, a Friday
    assert holiday_name(D(2026, 9, 25)) == "中秋节"


def test_adjusted_weekend_working_days_are_open() -> None:
    # The official 2026 调休 weekends, as published by the State Council and packaged by chinesecalendar.
    adjusted = [d for d in chinese_calendar.get_workdays(D(2026, 1, 1), D(2026, 12, 31)) if d.weekday() >= 5]
    assert D(2026, 9, 20) in adjusted and D(2026, 10, 10) in adjusted
    assert is_open(D(2026, 10, 10))  # Saturday
    assert is_open(D(2026, 9, 20))  # Sunday
    assert not is_open(D(2026, 10, 17))  # an ordinary Saturday


def test_promised_days_skip_the_national_day_holiday() -> None:
    # Accepted on 30 September: 1–7 October are off, 8, 9 and Saturday 10 October are working days.
    assert add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert add_working_days(D(2026, 9, 30), 4) == D(2026, 10, 12)


def test_the_day_of_acceptance_is_not_counted() -> None:
    assert add_working_days(D(2026, 11, 26), 1) == D(2026, 11, 27)  # Thursday → Friday
    assert add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)  # Friday → Monday
    assert working_days_between(D(2026, 11, 26), D(2026, 11, 30)) == 2


def test_immediate_services_finish_the_same_working_day() -> None:
    assert add_working_days(D(2026, 11, 26), 0) == D(2026, 11, 26)
    assert add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 8)  # accepted online during the holiday


def test_unpublished_years_are_not_guessed_for_opening_but_estimated_for_due_dates() -> None:
    far = D(2099, 1, 5)  # a Monday in a year chinesecalendar cannot know
    with pytest.raises(CalendarUnknown):
        is_open(far)
    assert is_working_day(far)
    assert not is_working_day(D(2099, 1, 3))  # Saturday
