"""A service whose guide left the catalog stops taking bookings; what was booked stays (both backends)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from svc_support import PERSON, TEST_SERVICES, sample_catalog

from services.appointments import BookingRequest
from services.catalog import Catalog
from services.errors import NotOffered
from services.facade import Services

FRIDAY_0930 = dt.datetime(2026, 11, 27, 9, 30)
MONDAY_1000 = dt.datetime(2026, 11, 30, 10, 0)
REMOVED = "getigongshanghu_sheli"


def _booking(service_id: str = REMOVED, start: dt.datetime = FRIDAY_0930) -> BookingRequest:
    return BookingRequest(hall_id="city", service_id=service_id, start=start, sender_id="web:u1", **PERSON)


def _without(service_id: str, *, kept: tuple[str, ...] = ()) -> Catalog:
    catalog = sample_catalog()
    return replace(catalog, services=tuple(s for s in catalog.services if s.id != service_id), kept=kept)


def _offered_at_city(svc: Services) -> set[str]:
    return {offer.service_id for offer in svc.hall_services("city")}


def test_a_removed_guide_stops_new_bookings_but_keeps_the_booked(svc: Services) -> None:
    booked = svc.book(_booking())
    svc.sync_catalog(_without(REMOVED))

    assert _offered_at_city(svc) == {"gongjijin_tiqu"}
    with pytest.raises(NotOffered, match=r"个体工商户设立登记.*暂停预约"):
        svc.book(_booking(start=MONDAY_1000))
    with pytest.raises(NotOffered):
        svc.free_slots("city", REMOVED, MONDAY_1000.date())
    with pytest.raises(NotOffered, match="已有的预约不受影响"):
        svc.reschedule(booked.code, PERSON["phone"], MONDAY_1000, actor="resident")

    still = svc.booking(booked.code)
    assert (still.service_name, still.start) == ("个体工商户设立登记", FRIDAY_0930)
    assert svc.cancel(booked.code, PERSON["phone"], actor="resident").code == booked.code


def test_a_guide_that_drops_a_hall_is_not_booked_there_any_more(svc: Services) -> None:
    catalog = sample_catalog()
    tiqu = next(s for s in TEST_SERVICES if s.id == "gongjijin_tiqu")
    only_renhuai = replace(tiqu, windows=tuple(w for w in tiqu.windows if w[0] != "city"))
    svc.sync_catalog(
        replace(catalog, services=tuple(only_renhuai if s.id == tiqu.id else s for s in catalog.services))
    )
    assert _offered_at_city(svc) == {REMOVED}
    assert {offer.service_id for offer in svc.hall_services("renhuai")} == {"gongjijin_tiqu"}


def test_an_invalid_guide_keeps_its_service_offered(svc: Services) -> None:
    svc.sync_catalog(_without(REMOVED, kept=(REMOVED,)))
    assert _offered_at_city(svc) == {"gongjijin_tiqu", REMOVED}
    assert svc.book(_booking()).service_name == "个体工商户设立登记"


def test_a_guide_that_comes_back_is_offered_again(svc: Services) -> None:
    svc.sync_catalog(_without(REMOVED))
    svc.sync_catalog(sample_catalog())
    assert _offered_at_city(svc) == {"gongjijin_tiqu", REMOVED}
    assert svc.free_slots("city", REMOVED, FRIDAY_0930.date())
