"""Holiday years staff enter beyond chinesecalendar: the schema, bookings and deadlines in 2027,
the coverage warning, and saving a year (validated, written atomically, audited).

The 2027 dates here are made up for the tests (temporary files only): the State Council's real
2027 schedule is entered by staff once it is published.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from svc_support import PERSON, Clock

from services import holidays
from services.appointments import BookingRequest
from services.errors import BookingRefused
from services.facade import Services
from services.holidays import HolidayFileInvalid, HolidayOverrides, calendar_status, parse_year, read_file
from services.models import AuditRecord
from services.workdays import CalendarUnknown, add_working_days, holiday_name, is_open

D = dt.date
TEST_2027: dict[str, Any] = {
    "year": 2027,
    "notice": {"number": "测试〔2026〕1号", "title": "测试用的2027年放假安排（虚构）", "date": "2026-11-20"},
    "holidays": {"元旦": ["2027-01-01 ~ 2027-01-03"], "春节": ["2027-02-07 ~ 2027-02-11", "2027-02-12"]},
    "workdays": ["2027-01-09", "2027-02-06"],
}


def _write(directory: Path, data: dict[str, Any], name: str = "2027.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def calendar_dir(tmp_path: Path) -> Iterator[Path]:
    """An empty holidays directory every calendar look-up of the process reads during the test."""
    with holidays.using_directory(tmp_path):
        yield tmp_path


def _changed(**changes: Any) -> dict[str, Any]:
    return {**TEST_2027, **changes}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            _changed(holidays={"元旦": ["2026-12-31"]}),
            "holidays.元旦[0]（放假安排）",
            "2026-12-31 不在2027年内",
        ),
        (
            _changed(workdays=["2027-01-02"]),
            "workdays[0]（调休上班日）",
            "2027-01-02 同时是元旦放假日和调休上班日",
        ),
        (
            _changed(workdays=["2027-02-03"]),
            "workdays[0]（调休上班日）",
            "2027-02-03（星期三） 不是周末",
        ),
        (_changed(holidays_extra=["2027-03-01"]), "holidays_extra", "不认识的键"),
        (_changed(holidays={"圣诞节": ["2027-12-25"]}), "holidays.圣诞节（放假安排）", "不认识的节日名称"),
        (
            _changed(holidays={"春节": ["2027-02-11 ~ 2027-02-05"]}),
            "holidays.春节[0]（放假安排）",
            "结束日期早于",
        ),
        (_changed(holidays={"春节": ["二月五日"]}), "holidays.春节[0]（放假安排）", "不是日期或日期范围"),
        (
            _changed(holidays={"元旦": ["2027-01-01"], "春节": ["2027-01-01"]}),
            "holidays.春节[0]（放假安排）",
            "重复出现（已列在元旦）",
        ),
        (_changed(year=2028), "year（年份）", "与文件名的年份2027不一致"),
        ({k: v for k, v in TEST_2027.items() if k != "notice"}, "notice（通知）", "缺少此项"),
        (
            _changed(notice={**TEST_2027["notice"], "date": "去年"}),
            "notice.date（发布日期）",
            "日期格式不正确",
        ),
    ],
)
def test_schema_errors_name_the_file_and_the_field_in_chinese(
    tmp_path: Path, data: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(HolidayFileInvalid) as raised:
        read_file(_write(tmp_path, data))
    assert f"2027.yaml 的 {field}：" in raised.value.message
    assert message in raised.value.message


def test_a_year_the_package_knows_is_not_entered_again() -> None:
    data = _changed(year=2026, holidays={"国庆节": ["2026-10-01 ~ 2026-10-07"]}, workdays=[])
    with pytest.raises(HolidayFileInvalid, match="chinesecalendar 已包含2026年的官方安排"):
        parse_year(data, "2026.yaml", expected_year=2026)


def test_without_a_file_2027_stays_unknown(calendar_dir: Path) -> None:
    with pytest.raises(CalendarUnknown):
        is_open(D(2027, 1, 4))


def test_a_2027_file_makes_bookings_in_2027_possible(calendar_dir: Path, svc: Services, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 12, 28, 9, 0)

    def book(start: dt.datetime, who: dict[str, str] = PERSON) -> dt.datetime:
        request = {
            "hall_id": "city",
            "service_id": "getigongshanghu_sheli",
            "start": start,
            "sender_id": "web:h",
        }
        return svc.book(BookingRequest.model_validate({**request, **who})).start

    with pytest.raises(BookingRefused, match="2027年的节假日安排尚未公布"):
        book(dt.datetime(2027, 1, 4, 9, 0))
    _write(calendar_dir, TEST_2027)
    with pytest.raises(BookingRefused, match="1月1日（星期五）是元旦假期"):
        book(dt.datetime(2027, 1, 1, 9, 0))
    saturday = dt.datetime(2027, 1, 9, 9, 0)  # a 调休 working Saturday in the file
    assert book(saturday) == saturday
    with pytest.raises(BookingRefused, match="是休息日"):
        svc.free_slots("city", "getigongshanghu_sheli", D(2027, 1, 10))  # an ordinary Sunday


def test_working_day_deadlines_skip_the_entered_holidays(calendar_dir: Path) -> None:
    # Without the file 2027 is estimated Monday–Friday: 1 January would count as a working day.
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)
    _write(calendar_dir, TEST_2027)
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert add_working_days(D(2027, 1, 8), 1) == D(2027, 1, 9)  # the 调休 Saturday counts
    assert add_working_days(D(2027, 2, 5), 1) == D(2027, 2, 6)  # the 调休 Saturday before 春节
    assert add_working_days(D(2027, 2, 6), 1) == D(2027, 2, 15)  # 7–12 Feb off, 13–14 a weekend
    assert holiday_name(D(2027, 2, 12)) == "春节"


def test_an_invalid_file_is_skipped_and_reported(calendar_dir: Path) -> None:
    _write(calendar_dir, _changed(workdays=["2027-02-03"]))
    with pytest.raises(CalendarUnknown):
        is_open(D(2027, 1, 4))
    problems = holidays.overrides().problems()
    assert [p.file for p in problems] == ["2027.yaml"] and "不是周末" in str(problems[0])


def test_status_warns_before_bookings_reach_the_unknown_year(calendar_dir: Path) -> None:
    calendar = holidays.overrides()
    today = D(2026, 11, 30)
    status = calendar_status(today, calendar, warning_days=30, booking_horizon_days=14)
    assert status.covered_until == D(2026, 12, 31) and status.days_left == 31 and status.warn
    assert status.message == "节假日日历只到2026年12月31日，请在12月17日前录入2027年国务院放假安排。"
    far = calendar_status(D(2026, 6, 1), calendar, warning_days=30, booking_horizon_days=14)
    assert not far.warn and far.message == "节假日日历已覆盖至2026年12月31日。"
    late = calendar_status(D(2026, 12, 20), calendar, warning_days=30, booking_horizon_days=14)
    assert late.warn and "居民已无法预约2027年的日期" in late.message
    _write(calendar_dir, TEST_2027)
    entered = calendar_status(today, calendar, warning_days=30, booking_horizon_days=14)
    assert entered.covered_until == D(2027, 12, 31) and not entered.warn


def test_saving_a_year_validates_writes_and_audits(calendar_dir: Path, svc: Services) -> None:
    calendar = holidays.overrides()
    body = {k: v for k, v in TEST_2027.items() if k != "year"}
    with pytest.raises(HolidayFileInvalid, match="不是周末"):
        svc.save_holiday_year(calendar, 2027, {**body, "workdays": ["2027-02-03"]}, actor="zy3101")
    assert not (calendar_dir / "2027.yaml").exists()
    saved = svc.save_holiday_year(calendar, 2027, body, actor="zy3101")
    assert saved.holiday_name(D(2027, 2, 12)) == "春节"
    assert read_file(calendar_dir / "2027.yaml").days_off == saved.days_off
    assert is_open(D(2027, 1, 9)) and not is_open(D(2027, 1, 1))
    assert [p.name for p in calendar_dir.iterdir()] == ["2027.yaml"]  # no temporary file left
    svc.save_holiday_year(calendar, 2027, {**body, "workdays": ["2027-01-09"]}, actor="zy3101")
    assert not is_open(D(2027, 2, 6))
    with svc.unit() as (session, _ctx):
        rows = session.scalars(select(AuditRecord).where(AuditRecord.action == "holidays.save")).all()
        assert [(r.actor, r.target, r.result) for r in rows] == [
            ("zy3101", "2027.yaml", "created"),
            ("zy3101", "2027.yaml", "replaced"),
        ]
        assert rows[0].detail == {
            "notice": "测试〔2026〕1号",
            "days_off": 9,
            "workdays": ["2027-01-09", "2027-02-06"],
        }


def test_the_overrides_reread_a_changed_directory(tmp_path: Path) -> None:
    calendar = HolidayOverrides(tmp_path, check_seconds=0)
    assert calendar.year(2027) is None
    _write(tmp_path, TEST_2027)
    entered = calendar.year(2027)
    assert entered is not None and entered.is_workday(D(2027, 1, 9))
    (tmp_path / "2027.yaml").unlink()
    assert calendar.year(2027) is None


def test_the_readme_example_is_a_valid_file(tmp_path: Path) -> None:
    readme = (Path(holidays.__file__).parent.parent / "knowledge" / "holidays" / "README.md").read_text()
    example = readme.split("```yaml", 1)[1].split("```", 1)[0]
    (tmp_path / "2099.yaml").write_text(example, encoding="utf-8")
    assert read_file(tmp_path / "2099.yaml").workdays == {D(2099, 1, 17), D(2099, 10, 10)}
