"""Halls and the services they offer, copied from knowledge/ into the database.

Appointments and applications reference these rows by foreign key, so an unknown hall or
service is refused by the database as well as by the code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.settings import ServicesSettings
from services.errors import NotFound, NotOffered
from services.models import Hall, HallService, ServiceItem, SlotCounter

if TYPE_CHECKING:
    from indexer.schema import Guide


@dataclass(frozen=True)
class CatalogHall:
    id: str
    name: str
    district: str
    address: str
    phone: str


@dataclass(frozen=True)
class CatalogService:
    id: str
    name: str
    promised_days: int
    legal_days: int | None
    windows: tuple[tuple[str, str], ...]  # (hall id, window)
    materials: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    halls: tuple[CatalogHall, ...]
    services: tuple[CatalogService, ...]
    # Services whose guide file is invalid now: their last good guide is still served, so what
    # the database offers for them is left as it is.
    kept: tuple[str, ...] = ()


class HallView(BaseModel):
    id: str
    name: str
    district: str
    address: str
    phone: str


class HallServiceView(BaseModel):
    hall_id: str
    hall_name: str
    hall_address: str
    hall_phone: str
    service_id: str
    service_name: str
    window: str
    capacity: int
    promised_days: int


def load_halls(halls_file: Path) -> tuple[CatalogHall, ...]:
    data = yaml.safe_load(halls_file.read_text(encoding="utf-8")) or {}
    return tuple(
        CatalogHall(h["id"], h["name"], h["district"], h["address"], str(h["phone"]))
        for h in data.get("halls", [])
    )


def catalog_of(halls: tuple[CatalogHall, ...], guides: Iterable[Guide], kept: Iterable[str] = ()) -> Catalog:
    """The catalog the given guides describe: their halls, windows and time limits."""
    hall_ids = {hall.name: hall.id for hall in halls}
    services = []
    for guide in sorted(guides, key=lambda guide: guide.id):
        windows = tuple((hall_ids[h.name], h.window) for h in guide.halls if h.name in hall_ids)
        services.append(
            CatalogService(
                guide.id,
                guide.name,
                guide.time_limits.promised_days,
                guide.time_limits.legal_days,
                windows,
                tuple(material.name for material in guide.materials),
            )
        )
    return Catalog(halls, tuple(services), tuple(sorted(kept)))


def load_catalog(guides_dir: Path, halls_file: Path) -> Catalog:
    """Halls from halls.yaml and every valid guide's halls and windows; an invalid guide file's
    service is ``kept`` as it is (the index keeps serving its last good version)."""
    from indexer.loader import load_guides  # the guide schema is the indexer's; import only when used

    guide_set = load_guides(guides_dir, halls_file)
    return catalog_of(
        load_halls(halls_file),
        (loaded.guide for loaded in guide_set.guides),
        kept=(path.stem for path in guide_set.skipped_files),
    )


def sync_catalog(session: Session, catalog: Catalog, settings: ServicesSettings, now: dt.datetime) -> None:
    """Upsert halls, services and hall services; future slots follow a changed capacity when they fit.

    A hall service the catalog no longer lists (its guide was removed, or no longer names the
    hall) stops taking new bookings; its row, and every appointment made, stay."""
    for hall in catalog.halls:
        session.merge(Hall(**asdict(hall)))
    for service in catalog.services:
        session.merge(
            ServiceItem(
                id=service.id,
                name=service.name,
                promised_days=service.promised_days,
                legal_days=service.legal_days,
            )
        )
    session.flush()
    for service in catalog.services:
        capacity = settings.slot_capacity_by_service.get(service.id, settings.slot_capacity)
        for hall_id, window in service.windows:
            session.merge(
                HallService(
                    hall_id=hall_id, service_id=service.id, window=window, capacity=capacity, offered=True
                )
            )
            session.execute(
                update(SlotCounter)
                .where(
                    SlotCounter.hall_id == hall_id,
                    SlotCounter.service_id == service.id,
                    SlotCounter.slot_start > now,
                    SlotCounter.booked <= capacity,
                )
                .values(capacity=capacity)
            )
    listed = {(hall_id, service.id) for service in catalog.services for hall_id, _window in service.windows}
    kept = set(catalog.kept)
    for offer in session.scalars(select(HallService).where(HallService.offered)):
        if offer.service_id not in kept and (offer.hall_id, offer.service_id) not in listed:
            offer.offered = False
    session.flush()


def list_halls(session: Session) -> list[HallView]:
    rows = session.scalars(select(Hall).order_by(Hall.id)).all()
    return [HallView.model_validate(row, from_attributes=True) for row in rows]


def get_hall(session: Session, hall_id: str) -> Hall:
    hall = session.get(Hall, hall_id) if len(hall_id) <= 32 else None
    if hall is None:
        raise NotFound("没有找到这个政务服务大厅，请从大厅列表中选择。", field="hall_id")
    return hall


def get_service(session: Session, service_id: str) -> ServiceItem:
    service = session.get(ServiceItem, service_id) if len(service_id) <= 64 else None
    if service is None:
        raise NotFound("没有找到这个事项，请确认事项名称。", field="service_id")
    return service


def hall_services(session: Session, hall_id: str) -> list[HallServiceView]:
    """What the hall takes bookings for now."""
    hall = get_hall(session, hall_id)
    rows = session.execute(
        select(HallService, ServiceItem)
        .join(ServiceItem, ServiceItem.id == HallService.service_id)
        .where(HallService.hall_id == hall.id, HallService.offered)
        .order_by(ServiceItem.name)
    ).all()
    return [_hall_service_view(hall, offer, service) for offer, service in rows]


def get_hall_service(
    session: Session, hall_id: str, service_id: str, *, for_booking: bool = False
) -> HallServiceView:
    """The offer in one query; the error path looks closer to say which part is unknown.

    ``for_booking`` refuses an offer withdrawn from the catalog (a new seat is wanted); reading
    an existing appointment's offer is always allowed."""
    row = session.execute(
        select(Hall, HallService, ServiceItem)
        .join(HallService, HallService.hall_id == Hall.id)
        .join(ServiceItem, ServiceItem.id == HallService.service_id)
        .where(Hall.id == hall_id[:33], ServiceItem.id == service_id[:65])
    ).first()
    if row is None:
        hall = get_hall(session, hall_id)
        service = get_service(session, service_id)
        raise NotFound(f"{hall.name}不办理“{service.name}”，请选择其他大厅。", field="service_id")
    hall, offer, service = row
    if for_booking and not offer.offered:
        raise NotOffered(
            f"“{service.name}”在{hall.name}已暂停预约（办事指南已下线或调整）。已有的预约不受影响；"
            "如需办理，请咨询 12345 政务服务便民热线。",
            field="service_id",
        )
    return _hall_service_view(hall, offer, service)


def _hall_service_view(hall: Hall, offer: HallService, service: ServiceItem) -> HallServiceView:
    return HallServiceView(
        hall_id=hall.id,
        hall_name=hall.name,
        hall_address=hall.address,
        hall_phone=hall.phone,
        service_id=service.id,
        service_name=service.name,
        window=offer.window,
        capacity=offer.capacity,
        promised_days=service.promised_days,
    )
