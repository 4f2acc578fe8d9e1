"""No seat is ever given twice: bursts of concurrent requests with real commits, then count.

Each test gets its own freshly migrated database (the rolled-back fixture cannot be shared
between threads), and its own connection pool large enough that every thread really has a
connection of its own at the same moment.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
from svc_support import Clock, make_settings, person, sample_catalog, scratch_database

from services.appointments import BookingRequest, booked_count
from services.db import make_engine, make_sessionmaker
from services.errors import DomainError
from services.facade import Services

SLOT = dt.datetime(2026, 11, 27, 10, 0)
CLIENTS = 50


@pytest.fixture
def committed(backend: str, tmp_path: Path) -> Iterator[Services]:
    with scratch_database(backend, tmp_path) as url:
        engine = make_engine(url, pool_size=CLIENTS + 5, max_overflow=10)
        services = Services(make_sessionmaker(engine), make_settings(url, slot_capacity=10), clock=Clock())
        services.sync_catalog(sample_catalog())
        yield services
        engine.dispose()


def booking(
    index: int, start: dt.datetime = SLOT, service_id: str = "getigongshanghu_sheli"
) -> BookingRequest:
    return BookingRequest.model_validate(
        {
            "hall_id": "city",
            "service_id": service_id,
            "start": start,
            "sender_id": f"web:c{index}",
            **person(index),
        }
    )


def burst(calls: list[Callable[[], object]]) -> Counter[str]:
    """Run every call at once (released together by a barrier); count outcomes by error code."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> str:
        barrier.wait()
        try:
            call()
        except DomainError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(run, calls))


def seats(services: Services, start: dt.datetime = SLOT) -> tuple[int, int]:
    with services.unit() as (session, _ctx):
        return booked_count(session, "city", "getigongshanghu_sheli", start)


def test_fifty_concurrent_bookings_for_the_last_three_seats(committed: Services) -> None:
    for index in range(7):
        committed.book(booking(index))
    outcomes = burst([partial(committed.book, booking(i)) for i in range(100, 100 + CLIENTS)])
    assert outcomes == Counter({"ok": 3, "slot_full": CLIENTS - 3})
    assert seats(committed) == (10, 10)  # appointments booked == counter == capacity


def test_one_person_firing_many_bookings_gets_exactly_one(committed: Services) -> None:
    starts = [SLOT + dt.timedelta(minutes=30 * k) for k in range(4)] + [
        dt.datetime(2026, 11, 27, 13, 30) + dt.timedelta(minutes=30 * k) for k in range(7)
    ]
    same_person = [booking(1, start) for start in starts] * 3
    outcomes = burst([partial(committed.book, r) for r in same_person])
    assert outcomes == Counter({"ok": 1, "already_booked": len(same_person) - 1})
    assert sum(seats(committed, start)[0] for start in starts) == 1
    assert sum(seats(committed, start)[1] for start in starts) == 1


def test_concurrent_cancels_free_the_seat_once(committed: Services) -> None:
    code = committed.book(booking(1)).code
    committed.book(booking(2))
    phone = person(1)["phone"]
    outcomes = burst([partial(committed.cancel, code, phone, actor="web:c1") for _ in range(20)])
    assert outcomes == Counter({"ok": 1, "conflict": 19})
    assert seats(committed) == (1, 1)


def test_concurrent_reschedules_into_the_last_seat(committed: Services) -> None:
    target = dt.datetime(2026, 11, 30, 9, 0)
    for index in range(9):
        committed.book(booking(index, target))
    sources = (SLOT, SLOT + dt.timedelta(minutes=30))
    movers = [committed.book(booking(index, sources[index % 2])) for index in range(100, 120)]
    outcomes = burst(
        [
            partial(committed.reschedule, b.code, person(i)["phone"], target, actor="web:m")
            for i, b in zip(range(100, 120), movers, strict=True)
        ]
    )
    assert outcomes == Counter({"ok": 1, "slot_full": 19})
    assert seats(committed, target) == (10, 10)
    assert sum(seats(committed, start)[0] for start in sources) == 19
    assert [seats(committed, start)[0] for start in sources] == [
        seats(committed, start)[1] for start in sources
    ]
