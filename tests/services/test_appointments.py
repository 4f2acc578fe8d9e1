from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from icalendar import Calendar
from svc_support import NOW, OTHER, PERSON, Clock, count_rows, person

from services.appointments import BookingRequest
from services.errors import (
    AlreadyBooked,
    BookingRefused,
    Conflict,
    InvalidInput,
    NotFound,
    RateLimited,
    SlotFull,
)
from services.facade import Services
from services.models import Appointment, AuditRecord, SlotCounter

FRIDAY_0930 = dt.datetime(2026, 11, 27, 9, 30)


def request(start: dt.datetime = FRIDAY_0930, who: dict[str, str] = PERSON, **changes: Any) -> BookingRequest:
    values = {
        "hall_id": "city",
        "service_id": "getigongshanghu_sheli",
        "start": start,
        "sender_id": "web:u1",
        **who,
    }
    values.update(changes)
    return BookingRequest.model_validate(values)


def remaining(svc: Services, start: dt.datetime, service_id: str = "getigongshanghu_sheli") -> int:
    slots = {slot.start: slot.remaining for slot in svc.free_slots("city", service_id, start.date())}
    return slots[start]


def test_a_working_day_has_thirteen_half_hour_slots(svc: Services) -> None:
    slots = svc.free_slots("city", "getigongshanghu_sheli", dt.date(2026, 11, 27))
    starts = [f"{slot.start:%H:%M}" for slot in slots]
    assert starts[:6] == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert starts[6:] == ["13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30"]
    assert all(slot.end - slot.start == dt.timedelta(minutes=30) and slot.remaining == 3 for slot in slots)


def test_today_lists_only_slots_still_ahead(svc: Services) -> None:
    slots = svc.free_slots("city", "getigongshanghu_sheli", NOW.date())
    assert slots[0].start == dt.datetime(2026, 11, 26, 10, 0)


def test_booking_takes_a_seat_and_returns_a_code_with_masked_details(svc: Services) -> None:
    booking = svc.book(request())
    assert len(booking.code) == 8
    assert (booking.start, booking.end) == (FRIDAY_0930, FRIDAY_0930 + dt.timedelta(minutes=30))
    assert (booking.hall_name, booking.window) == ("遵义市政务服务中心", "二楼 市场准入窗口")
    assert (booking.id_masked, booking.phone_masked, booking.name_masked) == (
        "110105********002X",
        "158****9119",
        "张*",
    )
    assert remaining(svc, FRIDAY_0930) == 2
    assert svc.audit_log(reader="auditor", limit=1)[0].action == "appointment.book"


def test_calendar_file_parses_back_with_the_booking(svc: Services) -> None:
    booking = svc.book(request())
    calendar = Calendar.from_ical(svc.booking_ics(booking.code))
    event = calendar.walk("VEVENT")[0]
    assert str(event["uid"]) == f"{booking.code}@zunyi-zwfw"
    assert event.decoded("dtstart").replace(tzinfo=None) == FRIDAY_0930
    assert str(event.decoded("dtstart").tzinfo) == "Asia/Shanghai"
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(minutes=30)
    assert "个体工商户设立登记" in str(event["summary"])
    assert "遵义市政务服务中心" in str(event["location"])
    assert PERSON["phone"] not in svc.booking_ics(booking.code).decode()
    assert calendar.walk("VTIMEZONE")


def test_one_active_appointment_per_person_and_service(svc: Services) -> None:
    first = svc.book(request())
    with pytest.raises(AlreadyBooked, match="同一事项只能保留一个预约"):
        svc.book(request(FRIDAY_0930 + dt.timedelta(hours=1)))
    svc.book(request(service_id="gongjijin_tiqu"))  # another service is fine
    svc.cancel(first.code, PERSON["phone"], actor="web:u1")
    svc.book(request(FRIDAY_0930 + dt.timedelta(hours=1)))  # after cancelling, booking again works


def test_a_past_appointment_does_not_block_the_next(svc: Services, clock: Clock) -> None:
    svc.book(request())
    clock.now = dt.datetime(2026, 11, 27, 11, 0)
    assert svc.book(request(dt.datetime(2026, 11, 30, 9, 0))).start.day == 30


def test_a_full_slot_is_refused(svc: Services) -> None:
    for index in range(3):
        svc.book(request(who=person(index)))
    with pytest.raises(SlotFull, match="已约满"):
        svc.book(request())
    assert remaining(svc, FRIDAY_0930) == 0


def test_cancel_needs_the_phone_on_file_and_frees_the_seat(svc: Services) -> None:
    booking = svc.book(request())
    with pytest.raises(NotFound) as wrong_phone:
        svc.cancel(booking.code, OTHER["phone"], actor="web:x")
    with pytest.raises(NotFound) as unknown_code:
        svc.cancel("ABCDEFGH", PERSON["phone"], actor="web:x")
    assert wrong_phone.value.message == unknown_code.value.message
    cancelled = svc.cancel(booking.code.lower(), PERSON["phone"], actor="web:u1")
    assert cancelled.status.value == "cancelled"
    assert remaining(svc, FRIDAY_0930) == 3
    with pytest.raises(Conflict, match="已取消"):
        svc.cancel(booking.code, PERSON["phone"], actor="web:u1")
    assert remaining(svc, FRIDAY_0930) == 3


def test_guessing_the_phone_for_a_code_is_capped(svc: Services) -> None:
    booking = svc.book(request())
    other = svc.book(request(who=OTHER))
    for guess in range(svc.settings.lookup_failures_per_number):
        with pytest.raises(NotFound):
            svc.cancel(booking.code, f"1390000{guess:04d}", actor="web:x")
    with pytest.raises(RateLimited, match="分钟后再试"):
        svc.cancel(booking.code, PERSON["phone"], actor="web:u1")
    assert svc.booking(booking.code).status.value == "booked"
    assert svc.cancel(other.code, OTHER["phone"], actor="web:u2").status.value == "cancelled"


def test_reschedule_moves_the_seat_and_keeps_the_code(svc: Services) -> None:
    booking = svc.book(request())
    later = dt.datetime(2026, 11, 30, 14, 0)
    moved = svc.reschedule(booking.code, PERSON["phone"], later, actor="web:u1")
    assert (moved.code, moved.start) == (booking.code, later)
    assert remaining(svc, FRIDAY_0930) == 3 and remaining(svc, later) == 2
    assert svc.audit_log(reader="auditor", limit=1)[0].detail == {
        "from": FRIDAY_0930.isoformat(),
        "to": later.isoformat(),
    }


def test_reschedule_into_a_full_slot_leaves_the_booking_untouched(svc: Services) -> None:
    booking = svc.book(request())
    full = dt.datetime(2026, 11, 30, 9, 0)
    for index in range(3):
        svc.book(request(full, who=person(index)))
    with pytest.raises(SlotFull):
        svc.reschedule(booking.code, PERSON["phone"], full, actor="web:u1")
    assert svc.booking(booking.code).start == FRIDAY_0930
    assert remaining(svc, FRIDAY_0930) == 2


@pytest.mark.parametrize(
    ("now", "start", "reason"),
    [
        (NOW, dt.datetime(2026, 11, 25, 9, 0), "已经过去"),
        (NOW, dt.datetime(2026, 11, 26, 9, 30), "的时段已经过去"),
        (NOW, dt.datetime(2026, 12, 11, 9, 0), "最多可预约14天内"),
        (NOW, dt.datetime(2026, 11, 28, 9, 0), "是休息日"),
        (NOW, dt.datetime(2026, 11, 27, 9, 15), "不是可预约的时段"),
        (NOW, dt.datetime(2026, 11, 27, 12, 0), "不是可预约的时段"),
        (NOW, dt.datetime(2026, 11, 27, 17, 0), "不是可预约的时段"),
        (dt.datetime(2026, 9, 28, 9, 0), dt.datetime(2026, 10, 1, 9, 0), "是国庆节假期"),
        (dt.datetime(2026, 9, 14, 9, 0), dt.datetime(2026, 9, 25, 9, 0), "是中秋节假期"),
        (dt.datetime(2026, 12, 28, 9, 0), dt.datetime(2027, 1, 4, 9, 0), "2027年的节假日安排尚未公布"),
    ],
)
def test_refused_dates_say_why_and_write_nothing(
    svc: Services, clock: Clock, now: dt.datetime, start: dt.datetime, reason: str
) -> None:
    clock.now = now
    with pytest.raises(BookingRefused, match=reason):
        svc.book(request(start))
    assert count_rows(svc, Appointment) == count_rows(svc, SlotCounter) == count_rows(svc, AuditRecord) == 0


@pytest.mark.parametrize(
    ("now", "start"),
    [
        (dt.datetime(2026, 9, 28, 9, 0), dt.datetime(2026, 10, 10, 9, 0)),  # 调休 Saturday after National Day
        (dt.datetime(2026, 9, 14, 9, 0), dt.datetime(2026, 9, 20, 16, 30)),  # 调休 Sunday before Mid-Autumn
    ],
)
def test_adjusted_weekend_working_days_can_be_booked(
    svc: Services, clock: Clock, now: dt.datetime, start: dt.datetime
) -> None:
    clock.now = now
    assert svc.book(request(start)).start == start


def test_listing_slots_on_a_holiday_says_the_hall_is_closed(svc: Services, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 9, 28, 9, 0)
    with pytest.raises(BookingRefused, match="国庆节"):
        svc.free_slots("city", "getigongshanghu_sheli", dt.date(2026, 10, 2))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"hall_id": "atlantis"}, NotFound),
        ({"hall_id": "city'; DROP TABLE appointments; --"}, NotFound),
        ({"service_id": "gongzufang_shenqing"}, NotFound),  # not offered at the city centre
        ({"id_number": "11010519491231002Y"}, InvalidInput),
        ({"phone": "1580000911"}, InvalidInput),
        ({"name": ""}, InvalidInput),
        ({"sender_id": "x" * 500}, InvalidInput),
    ],
)
def test_bad_bookings_are_refused_and_write_nothing(
    svc: Services, changes: dict[str, str], error: type
) -> None:
    with pytest.raises(error):
        svc.book(request().model_copy(update=changes))
    assert count_rows(svc, Appointment) == count_rows(svc, SlotCounter) == 0


def test_the_database_itself_refuses_overbooking_and_second_active_bookings(svc: Services) -> None:
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    booking = svc.book(request())
    with svc.unit() as (session, _ctx):
        with pytest.raises(IntegrityError), session.begin_nested():
            session.execute(update(SlotCounter).values(booked=SlotCounter.capacity + 1))
        original = session.query(Appointment).filter_by(code=booking.code).one()
        twin = Appointment(
            **{c.key: getattr(original, c.key) for c in Appointment.__table__.columns if c.key != "id"}
        )
        twin.code = "ZZZZZZZZ"
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(twin)
