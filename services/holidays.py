"""Holiday years staff add beyond the chinesecalendar package: ``knowledge/holidays/<YYYY>.yaml``.

The package stays the source for every year it knows. When the State Council announces a year
the installed package does not have yet, staff enter that notice's 放假 days and 调休 working days
as one file per year; services/workdays.py reads them through :func:`overrides`, so bookings and
working-day deadlines agree. Files are re-read when the directory changes (checked at most once a
second), so a year saved in the workbench takes effect in every running process without a restart.

A file that does not validate is skipped (its year stays unknown, as without the file) and its
problems, each naming the file and the field in Chinese, are reported by :func:`HolidayOverrides.problems`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from chinese_calendar.constants import holidays as PACKAGE_HOLIDAYS
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from core.settings import get_settings
from services import audit
from services.context import Context
from services.errors import InvalidInput

log = logging.getLogger(__name__)

HOLIDAY_NAMES: tuple[str, ...] = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
FILE_NAME = re.compile(r"^(\d{4})\.ya?ml$")
_RANGE = re.compile(r"^\s*(\S+)\s*(?:~|～|至|—|--)\s*(\S+)\s*$")
CHECK_SECONDS = 1.0
WEEKDAYS = "一二三四五六日"

FIELD_LABELS = {
    "year": "年份",
    "notice": "通知",
    "number": "文号",
    "title": "标题",
    "date": "发布日期",
    "holidays": "放假安排",
    "workdays": "调休上班日",
}

FILE_HEADER = (
    "# {year}年节假日安排，录入自国务院办公厅通知（见 notice）；由工作台“节假日”页面保存。\n"
    "# 格式见同目录 README.md。chinesecalendar 包含此年份后以包内数据为准。\n"
)


def package_years() -> tuple[int, int]:
    """The first and last year the installed chinesecalendar knows."""
    years = [day.year for day in PACKAGE_HOLIDAYS]
    return min(years), max(years)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chinesecalendar")
    except PackageNotFoundError:
        return "未知"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one holiday file, worded for the member of staff who fixes it."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file} 的 {self.field}：{self.message}" if self.field else f"{self.file}：{self.message}"
        )


class HolidayFileInvalid(InvalidInput):
    """A holiday year that does not validate; ``problems`` lists every field at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("；".join(str(p) for p in problems), field=problems[0].field if problems else None)
        self.problems = problems


class Notice(BaseModel):
    """The State Council notice the year is copied from."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str  # 文号, e.g. 国办发明电〔2025〕7号
    title: str
    date: dt.date


class _Raw(BaseModel):
    """The file's shape; dates and ranges are read by :func:`parse_year` for Chinese messages."""

    model_config = ConfigDict(extra="forbid")

    year: int
    notice: Notice
    holidays: dict[str, list[dt.date | str]]
    workdays: list[dt.date | str] = []


@dataclass(frozen=True)
class HolidayYear:
    """One validated year: each day off with its holiday's name, and the 调休 working weekends."""

    year: int
    notice: Notice
    entries: dict[str, list[str]]  # as written: holiday name → dates and "A ~ B" ranges
    workday_entries: list[str]
    days_off: dict[dt.date, str]
    workdays: frozenset[dt.date]
    file: str

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def holiday_name(self, day: dt.date) -> str | None:
        return self.days_off.get(day)

    def as_data(self) -> dict[str, Any]:
        """The file's content (what :func:`parse_year` reads back)."""
        return {
            "year": self.year,
            "notice": self.notice.model_dump(mode="json"),
            "holidays": self.entries,
            "workdays": self.workday_entries,
        }


def _label(location: tuple[int | str, ...]) -> str:
    """holidays.春节[1]（放假安排）: the path as written in the file, and what it is in words."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    named = [part for part in location if isinstance(part, str) and part in FIELD_LABELS]
    return f"{path}（{FIELD_LABELS[named[-1]]}）" if named else path


def _shape_message(detail: dict[str, Any]) -> str:
    kind = str(detail.get("type", ""))
    if kind == "missing":
        return "缺少此项"
    if kind == "extra_forbidden":
        return "不认识的键（可用的键见 README.md）"
    if kind.startswith("date"):
        return "日期格式不正确，应为 2027-01-01 这样的格式"
    if kind.startswith("int"):
        return "应为整数"
    if kind in {"dict_type", "model_type"}:
        return "应为键值映射"
    if kind == "list_type":
        return "应为列表"
    if kind.startswith("string"):
        return "应为文字"
    return f"格式不正确（{detail.get('msg', kind)}）"


def _date(value: dt.date | str) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _describe(day: dt.date) -> str:
    return f"{day.isoformat()}（星期{WEEKDAYS[day.weekday()]}）"


def _entry_text(value: dt.date | str) -> str:
    return value.isoformat() if isinstance(value, dt.date) else value.strip()


def parse_year(data: Any, file: str, *, expected_year: int | None = None) -> HolidayYear:
    """A validated :class:`HolidayYear` from a file's content; raises HolidayFileInvalid."""
    if not isinstance(data, dict):
        raise HolidayFileInvalid([Problem(file, "", "顶层应为键值映射（year、notice、holidays、workdays）")])
    try:
        raw = _Raw.model_validate(data)
    except ValidationError as error:
        raise HolidayFileInvalid(
            [Problem(file, _label(tuple(d["loc"])), _shape_message(dict(d))) for d in error.errors()]
        ) from None
    problems: list[Problem] = []
    year = raw.year
    if expected_year is not None and year != expected_year:
        problems.append(Problem(file, _label(("year",)), f"为{year}，与文件名的年份{expected_year}不一致"))
    first_known, last_known = package_years()
    if first_known <= year <= last_known:
        problems.append(
            Problem(file, _label(("year",)), f"chinesecalendar 已包含{year}年的官方安排，无需录入")
        )

    def in_year(day: dt.date, where: tuple[int | str, ...]) -> bool:
        if day.year != year:
            problems.append(Problem(file, _label(where), f"{day.isoformat()} 不在{year}年内"))
            return False
        return True

    if not raw.holidays:
        problems.append(Problem(file, _label(("holidays",)), "至少应有一个节日的放假日期"))
    days_off: dict[dt.date, str] = {}
    for name, items in raw.holidays.items():
        if name not in HOLIDAY_NAMES:
            allowed = "、".join(HOLIDAY_NAMES)
            problems.append(Problem(file, _label(("holidays", name)), f"不认识的节日名称，可用：{allowed}"))
            continue
        if not items:
            problems.append(Problem(file, _label(("holidays", name)), "没有放假日期"))
        for index, item in enumerate(items):
            where = ("holidays", name, index)
            for day in _days(item, file, where, problems):
                if not in_year(day, where):
                    continue
                if day in days_off:
                    problems.append(
                        Problem(file, _label(where), f"{day.isoformat()} 重复出现（已列在{days_off[day]}）")
                    )
                    continue
                days_off[day] = name
    workdays: set[dt.date] = set()
    for index, item in enumerate(raw.workdays):
        at: tuple[int | str, ...] = ("workdays", index)
        workday = _date(item)
        if workday is None:
            problems.append(Problem(file, _label(at), f"“{item}”不是日期，应为 2027-01-01 这样的格式"))
            continue
        if not in_year(workday, at):
            continue
        if workday.weekday() < 5:
            problems.append(
                Problem(file, _label(at), f"{_describe(workday)} 不是周末；调休上班日应为星期六或星期日")
            )
        if workday in days_off:
            problems.append(
                Problem(
                    file, _label(at), f"{workday.isoformat()} 同时是{days_off[workday]}放假日和调休上班日"
                )
            )
        if workday in workdays:
            problems.append(Problem(file, _label(at), f"{workday.isoformat()} 重复出现"))
        workdays.add(workday)
    if problems:
        raise HolidayFileInvalid(problems)
    return HolidayYear(
        year=year,
        notice=raw.notice,
        entries={name: [_entry_text(item) for item in items] for name, items in raw.holidays.items()},
        workday_entries=[_entry_text(item) for item in raw.workdays],
        days_off=dict(sorted(days_off.items())),
        workdays=frozenset(workdays),
        file=file,
    )


def _days(
    item: dt.date | str, file: str, where: tuple[int | str, ...], problems: list[Problem]
) -> Iterator[dt.date]:
    """The days one holiday entry names: a date, or an inclusive range "2027-02-05 ~ 2027-02-11"."""
    single = _date(item)
    if single is not None:
        yield single
        return
    assert isinstance(item, str)
    match = _RANGE.match(item)
    start, end = (_date(match[1]), _date(match[2])) if match else (None, None)
    if start is None or end is None:
        problems.append(
            Problem(
                file,
                _label(where),
                f"“{item}”不是日期或日期范围，应为 2027-01-01 或 2027-02-05 ~ 2027-02-11 这样的格式",
            )
        )
        return
    if end < start:
        problems.append(Problem(file, _label(where), f"“{item}”的结束日期早于开始日期"))
        return
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def read_file(path: Path) -> HolidayYear:
    """One year's file; raises HolidayFileInvalid naming the file."""
    name = path.name
    match = FILE_NAME.match(name)
    if not match:
        raise HolidayFileInvalid([Problem(name, "", "文件名应为四位年份，如 2027.yaml")])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise HolidayFileInvalid([Problem(name, "", f"不是有效的 UTF-8 YAML：{error}")]) from None
    return parse_year(data, name, expected_year=int(match[1]))


@dataclass(frozen=True)
class Loaded:
    years: dict[int, HolidayYear] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


class HolidayOverrides:
    """The valid year files in one directory, re-read when a file there is added, changed or removed."""

    def __init__(self, directory: Path, *, check_seconds: float = CHECK_SECONDS) -> None:
        self.directory = directory
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._checked_at = float("-inf")
        self._loaded = Loaded()

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())

    def _current(self) -> Loaded:
        with self._lock:
            now = time.monotonic()
            if now - self._checked_at < self._check_seconds:
                return self._loaded
            self._checked_at = now
            files = self._files()
            signature = tuple((p.name, *_stat(p)) for p in files)
            if signature != self._signature:
                self._loaded = _load(files)
                self._signature = signature
            return self._loaded

    def refresh(self) -> None:
        """Look at the directory on the next call, whenever the last look was (after a save)."""
        with self._lock:
            self._checked_at = float("-inf")

    def year(self, year: int) -> HolidayYear | None:
        return self._current().years.get(year)

    def years(self) -> dict[int, HolidayYear]:
        return dict(self._current().years)

    def problems(self) -> tuple[Problem, ...]:
        return self._current().problems


def _stat(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except FileNotFoundError:
        return (0, -1)
    return (info.st_mtime_ns, info.st_size)


def _load(files: list[Path]) -> Loaded:
    years: dict[int, HolidayYear] = {}
    problems: list[Problem] = []
    for path in files:
        try:
            loaded = read_file(path)
        except HolidayFileInvalid as error:
            problems += error.problems
            log.error("holiday file %s skipped: %s", path, error.message)
            continue
        if loaded.year in years:
            problems.append(
                Problem(path.name, _label(("year",)), f"{loaded.year}年已由 {years[loaded.year].file} 录入")
            )
            continue
        years[loaded.year] = loaded
    return Loaded(years, tuple(problems))


_overrides: HolidayOverrides | None = None
_overrides_lock = threading.Lock()


def overrides() -> HolidayOverrides:
    """The process's holiday files, from settings.knowledge.holidays_dir (made on first use)."""
    global _overrides
    with _overrides_lock:
        if _overrides is None:
            _overrides = HolidayOverrides(get_settings().knowledge.holidays_dir)
        return _overrides


@contextmanager
def using_directory(directory: Path) -> Iterator[HolidayOverrides]:
    """Every calendar look-up in this process reads ``directory`` meanwhile (tests, tools)."""
    global _overrides
    with _overrides_lock:
        previous, _overrides = _overrides, HolidayOverrides(directory, check_seconds=0)
        current = _overrides
    try:
        yield current
    finally:
        with _overrides_lock:
            _overrides = previous


def known_years(calendar: HolidayOverrides) -> set[int]:
    """Years whose working days are known: the package's and the valid files'."""
    first, last = package_years()
    return set(range(first, last + 1)) | set(calendar.years())


def covered_until(today: dt.date, calendar: HolidayOverrides) -> dt.date:
    """The last day of the last year known without a gap from ``today``'s year on."""
    known = known_years(calendar)
    year = today.year
    if year not in known:
        return dt.date(year, 1, 1) - dt.timedelta(days=1)
    while year + 1 in known:
        year += 1
    return dt.date(year, 12, 31)


class CalendarStatus(BaseModel):
    covered_until: dt.date
    days_left: int  # days from today to covered_until
    enter_by: dt.date  # after this day residents could pick a bookable day the calendar does not know
    warn: bool
    message: str


def _cn(day: dt.date, *, year: bool = True) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if year else f"{day.month}月{day.day}日"


def calendar_status(
    today: dt.date, calendar: HolidayOverrides, *, warning_days: int, booking_horizon_days: int
) -> CalendarStatus:
    """How long the known calendar lasts, and whether staff must enter the next year now.

    The deadline is the last day on which every bookable day (today + the booking horizon) is
    still covered: after it residents would be refused days of the next year. The warning starts
    ``warning_days`` before that deadline.
    """
    until = covered_until(today, calendar)
    enter_by = until - dt.timedelta(days=booking_horizon_days)
    days_left = (until - today).days
    next_year = until.year + 1
    warn = (enter_by - today).days <= warning_days
    if not warn:
        message = f"节假日日历已覆盖至{_cn(until)}。"
    elif today <= enter_by:
        message = (
            f"节假日日历只到{_cn(until)}，请在{_cn(enter_by, year=False)}前录入{next_year}年国务院放假安排。"
        )
    else:
        message = (
            f"节假日日历只到{_cn(until)}，居民已无法预约{next_year}年的日期，"
            f"请尽快录入{next_year}年国务院放假安排。"
        )
    return CalendarStatus(
        covered_until=until, days_left=days_left, enter_by=enter_by, warn=warn, message=message
    )


def dump_year(year: HolidayYear) -> str:
    body = yaml.safe_dump(year.as_data(), allow_unicode=True, sort_keys=False, default_flow_style=False)
    return FILE_HEADER.format(year=year.year) + body


def write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_year(
    session: Session, ctx: Context, calendar: HolidayOverrides, year: int, data: dict[str, Any], *, actor: str
) -> HolidayYear:
    """Validates ``data`` as ``<year>.yaml``, writes it atomically and audits the change."""
    file = f"{year}.yaml"
    parsed = parse_year({"year": year, **data}, file, expected_year=year)
    path = calendar.directory / file
    replaced = path.exists()
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="holidays.save",
        target=file,
        result="replaced" if replaced else "created",
        detail={
            "notice": parsed.notice.number,
            "days_off": len(parsed.days_off),
            "workdays": sorted(day.isoformat() for day in parsed.workdays),
        },
    )
    # Written last: a failure before here leaves neither the file nor its audit row.
    write_atomically(path, dump_year(parsed))
    calendar.refresh()
    return parsed


class PackageView(BaseModel):
    first_year: int
    last_year: int
    version: str


class YearView(BaseModel):
    """One year file as the workbench shows and edits it."""

    year: int
    file: str
    active: bool  # False when the package knows the year (the package wins)
    notice: Notice
    holidays: dict[str, list[str]]
    workdays: list[str]
    days_off: int


class KnownYear(BaseModel):
    year: int
    source: str  # chinesecalendar | <YYYY>.yaml


class HolidayListing(BaseModel):
    package: PackageView
    years: list[KnownYear]  # from last year on
    files: list[YearView]
    problems: list[str]  # files skipped because they do not validate


def year_view(entered: HolidayYear) -> YearView:
    first, last = package_years()
    return YearView(
        year=entered.year,
        file=entered.file,
        active=not first <= entered.year <= last,
        notice=entered.notice,
        holidays=entered.entries,
        workdays=entered.workday_entries,
        days_off=len(entered.days_off),
    )


def listing(calendar: HolidayOverrides, today: dt.date) -> HolidayListing:
    first, last = package_years()
    files = calendar.years()
    years = [
        KnownYear(year=year, source="chinesecalendar" if first <= year <= last else files[year].file)
        for year in sorted(y for y in known_years(calendar) if y >= today.year - 1)
    ]
    return HolidayListing(
        package=PackageView(first_year=first, last_year=last, version=package_version()),
        years=years,
        files=[year_view(files[year]) for year in sorted(files)],
        problems=[str(problem) for problem in calendar.problems()],
    )
