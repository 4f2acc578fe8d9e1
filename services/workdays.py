"""Working days from the official calendar (``chinesecalendar``): holidays and 调休 working days.

The package covers the years the State Council had published when it was released; a year
announced since is entered by staff as knowledge/holidays/<YYYY>.yaml (services/holidays.py), read
here for the years the package does not know. Beyond both a day's status is unknown: hall opening
(:func:`is_open`) refuses to guess, while due-date arithmetic (:func:`add_working_days`) falls
back to Monday–Friday and says so, because an estimated promise is more useful to a resident
than none.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from services.holidays import overrides

log = logging.getLogger(__name__)


class CalendarUnknown(Exception):
    """The official schedule for this day's year is not in the installed chinesecalendar."""


def official_is_workday(day: dt.date) -> bool:
    """True on ordinary weekdays and 调休 working days; raises CalendarUnknown outside the data."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as error:
        entered = overrides().year(day.year)
        if entered is None:
            raise CalendarUnknown(str(error)) from None
        return entered.is_workday(day)


@lru_cache(maxsize=32)
def _warn_once(year: int) -> None:
    log.warning(
        "neither chinesecalendar nor knowledge/holidays has %s; counting Monday–Friday as working days", year
    )


def is_working_day(day: dt.date) -> bool:
    """Official status where known, otherwise Monday–Friday (logged once per year)."""
    try:
        return official_is_workday(day)
    except CalendarUnknown:
        _warn_once(day.year)
        return day.weekday() < 5


def is_open(day: dt.date) -> bool:
    """Halls open on working days, including 调休 weekends; raises CalendarUnknown when not published."""
    return official_is_workday(day)


def holiday_name(day: dt.date) -> str | None:
    """The Chinese name of the public holiday on ``day``, if it is one."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        entered = overrides().year(day.year)
        return entered.holiday_name(day) if entered else None
    return _HOLIDAY_NAMES.get(name) if on_holiday and name else None


# chinesecalendar names holidays in English; residents read the official Chinese names.
_HOLIDAY_NAMES = {
    chinese_calendar.Holiday.new_years_day.value: "元旦",
    chinese_calendar.Holiday.spring_festival.value: "春节",
    chinese_calendar.Holiday.tomb_sweeping_day.value: "清明节",
    chinese_calendar.Holiday.labour_day.value: "劳动节",
    chinese_calendar.Holiday.dragon_boat_festival.value: "端午节",
    chinese_calendar.Holiday.national_day.value: "国庆节",
    chinese_calendar.Holiday.mid_autumn_festival.value: "中秋节",
}


def next_working_day(day: dt.date) -> dt.date:
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start``; the start day itself is not counted.

    Periods in 行政许可 law run from the day after acceptance, so a 5-day promise accepted on a
    Friday ends on the following Friday. ``days == 0`` (即办) gives ``start`` itself, moved to the
    next working day when ``start`` is a rest day.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    if days == 0:
        return next_working_day(start)
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; 0 when end <= start."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count


def local_now(timezone: str) -> dt.datetime:
    """Naive wall-clock time in the halls' zone: every stored time is in that one zone."""
    return dt.datetime.now(ZoneInfo(timezone)).replace(tzinfo=None, microsecond=0)
