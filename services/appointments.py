"""Hall appointments (预约): the slot grid, free seats, book / cancel / reschedule.

Overbooking is impossible by construction: each (hall, service, slot) has a counter row with
CHECK (booked <= capacity), and a seat is taken only by the single atomic statement
``UPDATE … SET booked = booked + 1 WHERE … AND booked < capacity``. PostgreSQL re-checks the
WHERE clause after waiting on a concurrent update of the row; SQLite runs writers one at a time
(BEGIN IMMEDIATE). A partial unique index keeps one active appointment per person and service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn

from pydantic import BaseModel
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from core.settings import ServicesSettings
from services import audit, catalog, ratelimit
from services.context import Context
from services.errors import (
    AlreadyBooked,
    BookingRefused,
    Conflict,
    InvalidInput,
    NotFound,
    ProofMismatch,
    RateLimited,
    SlotFull,
)
from services.identity import (
    mask_id_number,
    mask_name,
    mask_phone,
    validate_id_number,
    validate_name,
    validate_phone,
)
from services.models import Appointment, AppointmentStatus, SlotCounter
from services.numbers import random_code
from services.sql import insert_for
from services.text import check_channel, check_sender
from services.workdays import CalendarUnknown, holiday_name, is_open

WEEKDAYS = "一二三四五六日"
NOT_FOUND = "预约码或手机号不正确，请核对后再试。"
ACTIVE = text("status = 'booked'")  # the predicate of the partial unique index
DAY_SECONDS = 24 * 60 * 60


class BookingRequest(BaseModel):
    hall_id: str
    service_id: str
    start: dt.datetime
    name: str
    id_number: str
    phone: str
    sender_id: str
    channel: str = "web"


class SlotView(BaseModel):
    start: dt.datetime
    end: dt.datetime
    capacity: int
    remaining: int


class Booking(BaseModel):
    """A booking as shown to whoever holds its code; identifiers masked."""

    code: str
    status: AppointmentStatus
    hall_id: str
    hall_name: str
    hall_address: str
    hall_phone: str
    service_id: str
    service_name: str
    window: str
    start: dt.datetime
    end: dt.datetime
    name_masked: str
    id_masked: str
    phone_masked: str


def slot_starts(settings: ServicesSettings, day: dt.date) -> list[dt.datetime]:
    """Every slot start on ``day`` cut from the opening sessions (9:00–12:00, 13:30–17:00 by default)."""
    step = dt.timedelta(minutes=settings.slot_minutes)
    starts = []
    for opens, closes in settings.opening_sessions:
        start, end = dt.datetime.combine(day, opens), dt.datetime.combine(day, closes)
        while start + step <= end:
            starts.append(start)
            start += step
    return starts


def _describe(day: dt.date) -> str:
    return f"{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def check_day(ctx: Context, day: dt.date) -> None:
    """Raises BookingRefused with the reason when ``day`` cannot be booked at all."""
    last = ctx.today + dt.timedelta(days=ctx.settings.booking_horizon_days)
    if day < ctx.today:
        raise BookingRefused(f"{_describe(day)}已经过去，请选择今天或以后的日期。", field="day")
    if day > last:
        raise BookingRefused(
            f"最多可预约{ctx.settings.booking_horizon_days}天内的时段（最晚{_describe(last)}），"
            f"{_describe(day)}暂未开放预约。",
            field="day",
        )
    try:
        open_ = is_open(day)
    except CalendarUnknown:
        raise BookingRefused(
            f"{day.year}年的节假日安排尚未公布，暂不能预约{_describe(day)}。", field="day"
        ) from None
    if not open_:
        holiday = holiday_name(day)
        why = f"是{holiday}假期" if holiday else "是休息日"
        raise BookingRefused(f"{_describe(day)}{why}，政务服务中心不对外办公，请选择工作日。", field="day")


def check_start(ctx: Context, start: dt.datetime) -> dt.datetime:
    """The slot start normalised (no seconds, no zone), or BookingRefused with the reason."""
    if start.tzinfo is not None:
        start = start.astimezone(_zone(ctx)).replace(tzinfo=None)
    check_day(ctx, start.date())
    if start not in slot_starts(ctx.settings, start.date()):
        hours = "、".join(f"{o:%H:%M}—{c:%H:%M}" for o, c in ctx.settings.opening_sessions)
        raise BookingRefused(
            f"{start:%H:%M} 不是可预约的时段。办公时间为 {hours}，"
            f"每{ctx.settings.slot_minutes}分钟一个时段。",
            field="start",
        )
    if start < ctx.now + dt.timedelta(minutes=ctx.settings.booking_lead_minutes):
        raise BookingRefused(
            f"{_describe(start.date())} {start:%H:%M} 的时段已经过去，请选择稍后的时段。", field="start"
        )
    return start


def _zone(ctx: Context) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(ctx.settings.timezone)


def free_slots(session: Session, ctx: Context, hall_id: str, service_id: str, day: dt.date) -> list[SlotView]:
    """Slots on ``day`` still in the future, with seats left (full slots are listed with remaining 0)."""
    offer = catalog.get_hall_service(session, hall_id, service_id, for_booking=True)
    check_day(ctx, day)
    taken = dict(
        session.execute(
            select(SlotCounter.slot_start, SlotCounter.booked).where(
                SlotCounter.hall_id == offer.hall_id,
                SlotCounter.service_id == offer.service_id,
                SlotCounter.slot_start >= dt.datetime.combine(day, dt.time()),
                SlotCounter.slot_start < dt.datetime.combine(day + dt.timedelta(days=1), dt.time()),
            )
        ).all()
    )
    lead = ctx.now + dt.timedelta(minutes=ctx.settings.booking_lead_minutes)
    step = dt.timedelta(minutes=ctx.settings.slot_minutes)
    return [
        SlotView(
            start=start,
            end=start + step,
            capacity=offer.capacity,
            remaining=max(0, offer.capacity - taken.get(start, 0)),
        )
        for start in slot_starts(ctx.settings, day)
        if start >= lead
    ]


def _take_seat(session: Session, offer: catalog.HallServiceView, start: dt.datetime) -> None:
    """One atomic upsert: create the slot's counter with this seat taken, or take a seat if one is left."""
    full = SlotFull(f"{_describe(start.date())} {start:%H:%M} 的时段已约满，请选择其他时段。", field="start")
    if offer.capacity < 1:
        raise full
    statement = (
        insert_for(session, SlotCounter)
        .values(
            hall_id=offer.hall_id,
            service_id=offer.service_id,
            slot_start=start,
            capacity=offer.capacity,
            booked=1,
        )
        .on_conflict_do_update(
            index_elements=[SlotCounter.hall_id, SlotCounter.service_id, SlotCounter.slot_start],
            set_={"booked": SlotCounter.booked + 1},
            where=SlotCounter.booked < SlotCounter.capacity,
        )
        .returning(SlotCounter.booked)
    )
    if session.execute(statement).first() is None:
        raise full


def _release_seat(session: Session, hall_id: str, service_id: str, start: dt.datetime) -> None:
    session.execute(
        update(SlotCounter)
        .where(
            SlotCounter.hall_id == hall_id,
            SlotCounter.service_id == service_id,
            SlotCounter.slot_start == start,
            SlotCounter.booked > 0,
        )
        .values(booked=SlotCounter.booked - 1)
        .execution_options(synchronize_session=False)
    )


def book(session: Session, ctx: Context, request: BookingRequest) -> Booking:
    """Take one seat in the slot and record the appointment; returns it with its confirmation code."""
    sender_id = check_sender(request.sender_id)
    channel = check_channel(request.channel)
    name = validate_name(request.name)
    id_number = validate_id_number(request.id_number, today=ctx.today)
    phone = validate_phone(request.phone)
    offer = catalog.get_hall_service(session, request.hall_id, request.service_id, for_booking=True)
    start = check_start(ctx, request.start)
    person = ctx.hash("id", id_number)
    phone_hash = ctx.hash("phone", phone)
    _count_phone_booking(session, ctx, phone_hash)
    _take_seat(session, offer, start)
    code = random_code()
    values: dict[str, Any] = {
        "code": code,
        "hall_id": offer.hall_id,
        "service_id": offer.service_id,
        "slot_start": start,
        "slot_end": start + dt.timedelta(minutes=ctx.settings.slot_minutes),
        "status": AppointmentStatus.booked,
        "name_masked": mask_name(name),
        "id_masked": mask_id_number(id_number),
        "person_hash": person,
        "phone_masked": mask_phone(phone),
        "phone_hash": phone_hash,
        "channel": channel,
        "sender_id": sender_id,
        "created_at": ctx.now,
        "updated_at": ctx.now,
        "reschedules": 0,
    }
    if not _insert_if_none_active(session, values):
        existing = _active(session, person, offer.service_id)
        if existing is None or existing.slot_end > ctx.now:
            _refuse_second(existing, offer.service_name)
        # A past appointment must not block the next one: it simply expired.
        existing.status = AppointmentStatus.expired
        existing.updated_at = ctx.now
        session.flush()
        if not _insert_if_none_active(session, values):
            _refuse_second(_active(session, person, offer.service_id), offer.service_name)
    audit.record(
        session,
        at=ctx.now,
        actor=sender_id,
        action="appointment.book",
        target=code,
        result="booked",
        detail={"hall": offer.hall_id, "service": offer.service_id, "start": start.isoformat()},
    )
    return _view(offer, values)


def _count_phone_booking(session: Session, ctx: Context, phone_hash: str) -> None:
    """One more booking today for this phone, or RateLimited past the day's cap (slot hoarding).

    A counter row rather than a count of appointments: the upsert is atomic, so concurrent bookings
    cannot all slip under the cap, and a booking refused later (slot full, already booked) rolls
    its count back with it. The window is the local calendar day, cancelled bookings included.
    """
    cap = ctx.settings.bookings_per_phone_per_day
    decision = ratelimit.hit(
        session, f"booking:phone:{phone_hash}", limit=cap, window_seconds=DAY_SECONDS, now=ctx.now
    )
    if not decision.allowed:
        raise RateLimited(
            f"这个手机号今天已预约{cap}次，达到每天的上限，请明天再预约；如有急事请拨打 12345。",
            retry_after=decision.retry_after,
        )


def _insert_if_none_active(session: Session, values: dict[str, Any]) -> bool:
    """Insert unless the person already holds an active appointment for the service.

    The partial unique index is the arbiter, so two concurrent requests by one person cannot
    both get in, on either backend; the code is random over 31^8 values, and a collision
    would fail loudly on its unique constraint rather than be mistaken for this case.
    """
    statement = (
        insert_for(session, Appointment)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[Appointment.person_hash, Appointment.service_id], index_where=ACTIVE
        )
        .returning(Appointment.id)
    )
    return session.execute(statement).first() is not None


def _active(session: Session, person: str, service_id: str) -> Appointment | None:
    return session.scalars(
        select(Appointment).where(
            Appointment.person_hash == person,
            Appointment.service_id == service_id,
            Appointment.status == AppointmentStatus.booked,
        )
    ).first()


def _refuse_second(existing: Appointment | None, service_name: str) -> NoReturn:
    when = f"（{_describe(existing.slot_start.date())} {existing.slot_start:%H:%M}）" if existing else ""
    raise AlreadyBooked(
        f"您已有一个“{service_name}”的有效预约{when}，同一事项只能保留一个预约；如需更改时间请改期。",
        field="service_id",
    )


def _owned(session: Session, ctx: Context, code: str, phone: str) -> Appointment:
    """The appointment if ``phone`` is the one on file; the same answer for a wrong code and a wrong phone."""
    code = (code or "").strip().upper()
    phone_hash = ctx.hash("phone", validate_phone(phone))
    # Whoever holds a receipt sees the phone masked (158****1234): without a cap on wrong
    # guesses per code, the 10,000 candidates left would be no second factor at all.
    window = ctx.settings.lookup_window_seconds
    failures_key = f"booking:failures:{code[:16]}"
    failures = ratelimit.current(session, failures_key, window_seconds=window, now=ctx.now)
    if failures.count >= ctx.settings.lookup_failures_per_number:
        minutes = max(1, -(-failures.retry_after // 60))
        raise RateLimited(
            f"核对失败次数太多，请{minutes}分钟后再试，或拨打 12345。", retry_after=failures.retry_after
        )
    appointment = (
        session.scalars(select(Appointment).where(Appointment.code == code)).one_or_none()
        if len(code) <= 16
        else None
    )
    if appointment is None or appointment.phone_hash != phone_hash:
        ratelimit.hit(
            session,
            failures_key,
            limit=ctx.settings.lookup_failures_per_number,
            window_seconds=window,
            now=ctx.now,
        )
        raise ProofMismatch(NOT_FOUND, field="code")
    return appointment


def _still_active(ctx: Context, appointment: Appointment) -> None:
    if appointment.status is not AppointmentStatus.booked:
        raise Conflict("该预约已取消或已失效，无需再操作。", field="code")
    if appointment.slot_start <= ctx.now:
        raise Conflict("该预约的时间已经开始或已过，不能再取消或改期。", field="code")


def cancel(session: Session, ctx: Context, code: str, phone: str, *, actor: str) -> Booking:
    appointment = _owned(session, ctx, code, phone)
    _still_active(ctx, appointment)
    # Conditional on the status, so two concurrent cancels free the seat once.
    changed = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == AppointmentStatus.booked)
        .values(status=AppointmentStatus.cancelled, updated_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("该预约已取消或已失效，无需再操作。", field="code")
    _release_seat(session, appointment.hall_id, appointment.service_id, appointment.slot_start)
    session.refresh(appointment)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="appointment.cancel",
        target=appointment.code,
        result="cancelled",
    )
    return _booking(session, appointment)


def reschedule(
    session: Session, ctx: Context, code: str, phone: str, new_start: dt.datetime, *, actor: str
) -> Booking:
    appointment = _owned(session, ctx, code, phone)
    _still_active(ctx, appointment)
    start = check_start(ctx, new_start)
    if start == appointment.slot_start:
        raise InvalidInput("新时段与原预约时段相同。", field="start")
    offer = catalog.get_hall_service(session, appointment.hall_id, appointment.service_id, for_booking=True)
    old_start = appointment.slot_start
    _take_seat(session, offer, start)
    moved = session.execute(
        update(Appointment)
        .where(
            Appointment.id == appointment.id,
            Appointment.status == AppointmentStatus.booked,
            Appointment.slot_start == old_start,
        )
        .values(
            slot_start=start,
            slot_end=start + dt.timedelta(minutes=ctx.settings.slot_minutes),
            updated_at=ctx.now,
            reschedules=Appointment.reschedules + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("该预约刚刚被修改过，请重新查询后再试。", field="code")
    _release_seat(session, offer.hall_id, offer.service_id, old_start)
    session.refresh(appointment)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="appointment.reschedule",
        target=appointment.code,
        result="rescheduled",
        detail={"from": old_start.isoformat(), "to": start.isoformat()},
    )
    return _booking(session, appointment)


def get_booking(session: Session, code: str) -> Booking:
    """By code alone: the code is the resident's receipt, and the view carries no clear identifiers."""
    code = (code or "").strip().upper()
    appointment = (
        session.scalars(select(Appointment).where(Appointment.code == code)).one_or_none()
        if len(code) <= 16
        else None
    )
    if appointment is None:
        raise NotFound("没有找到这个预约码。", field="code")
    return _booking(session, appointment)


def booked_count(session: Session, hall_id: str, service_id: str, start: dt.datetime) -> tuple[int, int]:
    """(appointments actually booked, the counter's value) for one slot; used by tests and the bench."""
    rows = session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.hall_id == hall_id,
            Appointment.service_id == service_id,
            Appointment.slot_start == start,
            Appointment.status == AppointmentStatus.booked,
        )
    )
    counter = session.scalar(
        select(SlotCounter.booked).where(
            SlotCounter.hall_id == hall_id,
            SlotCounter.service_id == service_id,
            SlotCounter.slot_start == start,
        )
    )
    return int(rows or 0), int(counter or 0)


def _booking(session: Session, appointment: Appointment) -> Booking:
    offer = catalog.get_hall_service(session, appointment.hall_id, appointment.service_id)
    return _view(offer, {column: getattr(appointment, column) for column in VIEW_COLUMNS})


VIEW_COLUMNS = ("code", "status", "slot_start", "slot_end", "name_masked", "id_masked", "phone_masked")


def _view(offer: catalog.HallServiceView, values: dict[str, Any]) -> Booking:
    return Booking(
        code=values["code"],
        status=values["status"],
        hall_id=offer.hall_id,
        hall_name=offer.hall_name,
        hall_address=offer.hall_address,
        hall_phone=offer.hall_phone,
        service_id=offer.service_id,
        service_name=offer.service_name,
        window=offer.window,
        start=values["slot_start"],
        end=values["slot_end"],
        name_masked=values["name_masked"],
        id_masked=values["id_masked"],
        phone_masked=values["phone_masked"],
    )
