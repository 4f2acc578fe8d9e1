"""The dashboard's figures from analytics_turns (and the ratings and handoffs that refer to them).

Read only. Every figure is for a :class:`Period`: whole local days from ``start`` to ``end``
(inclusive) and optionally one channel. Grouping is done in SQL with functions both backends
know (``date()``, ``extract(hour …)``); the few figures that need a median are computed here.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, extract, func, or_, select
from sqlalchemy.orm import Session

from core.settings import ServicesSettings
from services.appointments import slot_starts
from services.models import AnalyticsTurn, HallService, Handoff, Rating, ServiceItem, TurnKind
from services.workdays import is_working_day

BOOKING_INTENT = "book_appointment"


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    channel: str | None = None

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time())

    @property
    def until(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time())


@dataclass(frozen=True)
class DayVolume:
    day: dt.date
    turns: int
    answered: int
    fallback: int
    handoff: int


@dataclass(frozen=True)
class Count:
    """Turns per one key (hour of day, channel, answer kind, district)."""

    key: str
    turns: int


@dataclass(frozen=True)
class ServiceCount:
    guide_id: str
    name: str
    turns: int


@dataclass(frozen=True)
class ServiceDay:
    guide_id: str
    day: dt.date
    turns: int


@dataclass(frozen=True)
class Satisfaction:
    key: str  # guide id or channel
    name: str
    ratings: int
    average: float
    low: int  # ratings at or below the low mark


@dataclass(frozen=True)
class HandoffFigures:
    turns: int
    handoff_turns: int
    opened: int  # handoffs created in the period
    claimed: int
    mean_claim_minutes: float | None
    median_claim_minutes: float | None

    @property
    def rate(self) -> float:
        return self.handoff_turns / self.turns if self.turns else 0.0


@dataclass(frozen=True)
class UnansweredText:
    text: str
    count: int
    last_at: dt.datetime


@dataclass(frozen=True)
class HallCapacity:
    """Bookable seats per working day for one service, over the halls that still offer it."""

    guide_id: str
    halls: int
    seats_per_slot: int  # summed over halls


def _in_period(period: Period) -> ColumnElement[bool]:
    condition = and_(AnalyticsTurn.at >= period.since, AnalyticsTurn.at < period.until)
    if period.channel:
        condition = and_(condition, AnalyticsTurn.channel == period.channel)
    return condition


def _day(value: Any) -> dt.date:
    # SQLite's date() answers text, PostgreSQL's a date.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _count_kind(kind: TurnKind) -> ColumnElement[int]:
    return func.sum(case((AnalyticsTurn.kind == kind, 1), else_=0))


def volume_by_day(session: Session, period: Period) -> list[DayVolume]:
    """Every day of the period, days without turns as zeros."""
    day = func.date(AnalyticsTurn.at)
    query = (
        select(
            day,
            func.count(),
            _count_kind(TurnKind.answered),
            _count_kind(TurnKind.fallback),
            _count_kind(TurnKind.handoff),
        )
        .where(_in_period(period))
        .group_by(day)
    )
    found = {_day(row[0]): row for row in session.execute(query)}
    volumes = []
    for each in period.days:
        row = found.get(each)
        volumes.append(
            DayVolume(each, *(int(v or 0) for v in row[1:])) if row else DayVolume(each, 0, 0, 0, 0)
        )
    return volumes


def volume_by_hour(session: Session, period: Period) -> list[Count]:
    """All 24 hours of the day (local time), hours without turns as zeros."""
    hour = extract("hour", AnalyticsTurn.at)
    query = select(hour, func.count()).where(_in_period(period)).group_by(hour)
    found = {int(h): int(n) for h, n in session.execute(query)}
    return [Count(f"{h:02d}", found.get(h, 0)) for h in range(24)]


def volume_by_channel(session: Session, period: Period) -> list[Count]:
    query = (
        select(AnalyticsTurn.channel, func.count())
        .where(_in_period(period))
        .group_by(AnalyticsTurn.channel)
        .order_by(func.count().desc(), AnalyticsTurn.channel)
    )
    return [Count(str(key), int(n)) for key, n in session.execute(query)]


def outcomes(session: Session, period: Period) -> list[Count]:
    """Turns per answer kind (TurnKind), every kind listed."""
    query = select(AnalyticsTurn.kind, func.count()).where(_in_period(period)).group_by(AnalyticsTurn.kind)
    found = {TurnKind(kind).value: int(n) for kind, n in session.execute(query)}
    return [Count(kind.value, found.get(kind.value, 0)) for kind in TurnKind]


def busiest_districts(session: Session, period: Period, *, limit: int) -> list[Count]:
    query = (
        select(AnalyticsTurn.district, func.count())
        .where(_in_period(period), AnalyticsTurn.district.is_not(None))
        .group_by(AnalyticsTurn.district)
        .order_by(func.count().desc(), AnalyticsTurn.district)
        .limit(limit)
    )
    return [Count(str(key), int(n)) for key, n in session.execute(query)]


def top_services(session: Session, period: Period, *, limit: int) -> list[ServiceCount]:
    """Guides most asked about (turns that named a guide, whatever the answer kind)."""
    query = (
        select(AnalyticsTurn.guide_id, func.max(ServiceItem.name), func.count())
        .outerjoin(ServiceItem, ServiceItem.id == AnalyticsTurn.guide_id)
        .where(_in_period(period), AnalyticsTurn.guide_id.is_not(None))
        .group_by(AnalyticsTurn.guide_id)
        .order_by(func.count().desc(), AnalyticsTurn.guide_id)
        .limit(limit)
    )
    return [ServiceCount(str(gid), str(name or gid), int(n)) for gid, name, n in session.execute(query)]


def service_days(session: Session, period: Period, guide_ids: list[str]) -> list[ServiceDay]:
    """Turns per day for each of ``guide_ids``; zeros filled in."""
    if not guide_ids:
        return []
    day = func.date(AnalyticsTurn.at)
    query = (
        select(AnalyticsTurn.guide_id, day, func.count())
        .where(_in_period(period), AnalyticsTurn.guide_id.in_(guide_ids))
        .group_by(AnalyticsTurn.guide_id, day)
    )
    found = {(gid, _day(d)): int(n) for gid, d, n in session.execute(query)}
    return [ServiceDay(gid, each, found.get((gid, each), 0)) for gid in guide_ids for each in period.days]


def booking_days(session: Session, period: Period, guide_ids: list[str]) -> list[ServiceDay]:
    """Booking requests (intent book_appointment) per day for each guide; zeros filled in."""
    if not guide_ids:
        return []
    day = func.date(AnalyticsTurn.at)
    query = (
        select(AnalyticsTurn.guide_id, day, func.count())
        .where(
            _in_period(period), AnalyticsTurn.guide_id.in_(guide_ids), AnalyticsTurn.intent == BOOKING_INTENT
        )
        .group_by(AnalyticsTurn.guide_id, day)
    )
    found = {(gid, _day(d)): int(n) for gid, d, n in session.execute(query)}
    return [ServiceDay(gid, each, found.get((gid, each), 0)) for gid in guide_ids for each in period.days]


def _satisfaction(session: Session, period: Period, key: Any, *, low: int) -> list[Satisfaction]:
    query = (
        select(
            key,
            func.max(ServiceItem.name),
            func.count(),
            func.avg(Rating.score),
            func.sum(case((Rating.score <= low, 1), else_=0)),
        )
        .select_from(Rating)
        .join(AnalyticsTurn, AnalyticsTurn.turn_id == Rating.turn_id)
        .outerjoin(ServiceItem, ServiceItem.id == key)
        .where(_in_period(period), key.is_not(None))
        .group_by(key)
        .order_by(func.count().desc(), key)
    )
    return [
        Satisfaction(str(k), name or str(k), int(n), round(float(avg), 2), int(lows or 0))
        for k, name, n, avg, lows in session.execute(query)
    ]


def satisfaction_by_guide(session: Session, period: Period, *, low: int) -> list[Satisfaction]:
    """Ratings of answers, by the guide the rated turn answered from (else the rating's own guide)."""
    guide = func.coalesce(AnalyticsTurn.guide_id, Rating.guide_id)
    return _satisfaction(session, period, guide, low=low)


def satisfaction_by_channel(session: Session, period: Period, *, low: int) -> list[Satisfaction]:
    return _satisfaction(session, period, AnalyticsTurn.channel, low=low)


def handoff_figures(session: Session, period: Period) -> HandoffFigures:
    """Handoff rate over turns, and how long handoffs opened in the period waited to be claimed."""
    turns, handoff_turns = session.execute(
        select(func.count(), _count_kind(TurnKind.handoff)).where(_in_period(period))
    ).one()
    condition = and_(Handoff.created_at >= period.since, Handoff.created_at < period.until)
    if period.channel:
        condition = and_(condition, Handoff.channel == period.channel)
    rows = session.execute(select(Handoff.created_at, Handoff.claimed_at).where(condition)).all()
    waits = [(claimed - created).total_seconds() / 60 for created, claimed in rows if claimed is not None]
    return HandoffFigures(
        turns=int(turns),
        handoff_turns=int(handoff_turns or 0),
        opened=len(rows),
        claimed=len(waits),
        mean_claim_minutes=round(statistics.fmean(waits), 1) if waits else None,
        median_claim_minutes=round(statistics.median(waits), 1) if waits else None,
    )


def unanswered_texts(
    session: Session, period: Period, *, low_confidence: float, limit: int
) -> list[UnansweredText]:
    """Distinct masked texts of fallbacks and low-confidence answers, most frequent first."""
    unanswered = or_(
        AnalyticsTurn.kind == TurnKind.fallback,
        and_(AnalyticsTurn.kind == TurnKind.answered, AnalyticsTurn.confidence < low_confidence),
    )
    query = (
        select(AnalyticsTurn.text, func.count(), func.max(AnalyticsTurn.at))
        .where(_in_period(period), unanswered)
        .group_by(AnalyticsTurn.text)
        .order_by(func.count().desc(), func.max(AnalyticsTurn.at).desc())
        .limit(limit)
    )
    return [UnansweredText(text, int(n), last) for text, n, last in session.execute(query)]


def hall_capacity(session: Session, guide_ids: list[str]) -> list[HallCapacity]:
    """Seats per slot for each guide, summed over the halls still offering it (``offered``)."""
    if not guide_ids:
        return []
    query = select(HallService.service_id, HallService.capacity).where(
        HallService.service_id.in_(guide_ids), HallService.offered.is_(True)
    )
    halls: dict[str, list[int]] = {gid: [] for gid in guide_ids}
    for gid, capacity in session.execute(query):
        halls[gid].append(capacity)
    return [HallCapacity(gid, len(seats), sum(seats)) for gid, seats in halls.items()]


def daily_capacity(
    session: Session, settings: ServicesSettings, guide_ids: list[str], days: list[dt.date]
) -> dict[str, dict[dt.date, int]]:
    """Bookable seats per guide and day: slots cut from the opening sessions × seats per slot over
    the halls offering it, on working days (beyond the published calendar: Monday–Friday)."""
    slots = {day: len(slot_starts(settings, day)) if is_working_day(day) else 0 for day in days}
    return {
        hall.guide_id: {day: hall.seats_per_slot * slots[day] for day in days}
        for hall in hall_capacity(session, guide_ids)
    }


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard shows except the clusters and the forecast (workbench/)."""

    period: Period
    daily: list[DayVolume]
    hourly: list[Count]
    channels: list[Count]
    outcomes: list[Count]
    services: list[ServiceCount]
    service_trend: list[ServiceDay]
    satisfaction_guides: list[Satisfaction]
    satisfaction_channels: list[Satisfaction]
    handoffs: HandoffFigures
    districts: list[Count]


def figures(session: Session, period: Period, *, top: int, low_rating: int) -> Figures:
    services = top_services(session, period, limit=top)
    return Figures(
        period=period,
        daily=volume_by_day(session, period),
        hourly=volume_by_hour(session, period),
        channels=volume_by_channel(session, period),
        outcomes=outcomes(session, period),
        services=services,
        service_trend=service_days(session, period, [s.guide_id for s in services]),
        satisfaction_guides=satisfaction_by_guide(session, period, low=low_rating),
        satisfaction_channels=satisfaction_by_channel(session, period, low=low_rating),
        handoffs=handoff_figures(session, period),
        districts=busiest_districts(session, period, limit=top),
    )


def top_booking_services(session: Session, period: Period, *, limit: int) -> list[ServiceCount]:
    """Guides with the most booking requests (intent book_appointment) in the period."""
    query = (
        select(AnalyticsTurn.guide_id, func.max(ServiceItem.name), func.count())
        .outerjoin(ServiceItem, ServiceItem.id == AnalyticsTurn.guide_id)
        .where(
            _in_period(period),
            AnalyticsTurn.guide_id.is_not(None),
            AnalyticsTurn.intent == BOOKING_INTENT,
        )
        .group_by(AnalyticsTurn.guide_id)
        .order_by(func.count().desc(), AnalyticsTurn.guide_id)
        .limit(limit)
    )
    return [ServiceCount(str(gid), str(name or gid), int(n)) for gid, name, n in session.execute(query)]


def first_turn_day(session: Session) -> dt.date | None:
    first = session.scalar(select(func.min(AnalyticsTurn.at)))
    return first.date() if first else None
