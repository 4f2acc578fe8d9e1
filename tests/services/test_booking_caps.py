"""Slot hoarding: a cap on the appointments one phone number makes in a day, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker
from svc_support import NOW, Clock, make_settings, person, sample_catalog

from services.appointments import BookingRequest
from services.errors import AlreadyBooked, RateLimited
from services.facade import Services

FRIDAY_0930 = dt.datetime(2026, 11, 27, 9, 30)
PHONE = "15800009119"


@pytest.fixture
def capped(sessions: sessionmaker[Session], database_url: str, clock: Clock) -> Services:
    services = Services(sessions, make_settings(database_url, bookings_per_phone_per_day=2), clock=clock)
    services.sync_catalog(sample_catalog())
    return services


def booking(index: int, service_id: str = "getigongshanghu_sheli") -> BookingRequest:
    """A different resident each time, all giving the same phone number."""
    return BookingRequest.model_validate(
        {
            "hall_id": "city",
            "service_id": service_id,
            "start": FRIDAY_0930,
            "sender_id": "web:u1",
            **person(index),
            "phone": PHONE,
        }
    )


def test_one_phone_books_up_to_the_cap_a_day_then_is_told_when_to_come_back(
    capped: Services, clock: Clock
) -> None:
    capped.book(booking(1))
    capped.book(booking(2, "gongjijin_tiqu"))
    with pytest.raises(RateLimited) as refused:
        capped.book(booking(3))
    assert "手机号今天已预约2次" in refused.value.message
    midnight = dt.datetime.combine(NOW.date() + dt.timedelta(days=1), dt.time())
    assert refused.value.retry_after == int((midnight - NOW).total_seconds())
    # Another phone is not affected, and the next day the cap starts again.
    capped.book(booking(3).model_copy(update={"phone": "13985001234"}))
    clock.now = NOW + dt.timedelta(days=1)
    capped.book(booking(4).model_copy(update={"start": FRIDAY_0930.replace(hour=14)}))


def test_a_cancelled_booking_still_counts_and_a_refused_one_does_not(capped: Services) -> None:
    first = capped.book(booking(1))
    with pytest.raises(AlreadyBooked):
        capped.book(booking(1))  # refused before any seat was taken: not counted
    capped.cancel(first.code, PHONE, actor="web:u1")
    capped.book(booking(1))  # the second of the day
    with pytest.raises(RateLimited):
        capped.book(booking(2))
