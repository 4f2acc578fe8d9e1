"""Halls and the services they offer, copied from knowledge/ into the database.

Appointments and applications reference these rows by foreign key, so an unknown hall or
service is refused by the database as well as by the code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.settings import ServicesSettings
from services.errors import NotFound
from services.models import Hall, HallService, ServiceItem, SlotCounter


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


def load_catalog(guides_dir: Path, halls_file: Path) -> Catalog:
    """Halls from halls.yaml and every valid guide's halls and windows (invalid guides are skipped)."""
    from indexer.loader import load_guides  # the guide schema is the indexer's; import only when used

    halls = load_halls(halls_file)
    hall_ids = {hall.name: hall.id for hall in halls}
    services = []
    for loaded in load_guides(guides_dir, halls_file).guides:
        guide = loaded.guide
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
    return Catalog(halls, tuple(services))


def sync_catalog(session: Session, catalog: Catalog, settings: ServicesSettings, now: dt.datetime) -> None:
    """Upsert halls, services and hall services; future slots follow a changed capacity when they fit."""
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
                HallService(hall_id=hall_id, service_id=service.id, window=window, capacity=capacity)
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
    hall = get_hall(session, hall_id)
    rows = session.execute(
        select(HallService, ServiceItem)
        .join(ServiceItem, ServiceItem.id == HallService.service_id)
        .where(HallService.hall_id == hall.id)
        .order_by(ServiceItem.name)
    ).all()
    return [_hall_service_view(hall, offer, service) for offer, service in rows]


def get_hall_service(session: Session, hall_id: str, service_id: str) -> HallServiceView:
    """The offer in one query; the error path looks closer to say which part is unknown."""
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
    return _hall_service_view(*row)


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
