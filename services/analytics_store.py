"""The analytics turns the ingester writes: one row per resident message, keyed by its turn id.

Writing is an upsert by ``turn_id``: a replayed event rewrites the same row with the same values,
and replies merged into a row only move each field towards the stronger kind, the earlier guide
and the later reply (``TurnOutcome.merge``), so merging the same replies twice changes nothing.
The SQL broker's read position (``analytics_cursors``) is written in the same transaction as the
rows it produced: after a crash the ingester resumes where the committed rows end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.models import AnalyticsCursor, AnalyticsTurn, TurnKind

# How long after its question a reply may still join it: replies without a question in their
# batch belong to the sender's latest turn, unless that turn is older (a new session's greeting).
LATE_REPLY_WINDOW = dt.timedelta(minutes=5)
# The cursor of Rasa's SQL event broker (the purge deletes the rows behind it).
SQL_BROKER_CURSOR = "rasa_sql_broker"
STRONGEST_FIRST = (
    TurnKind.handoff,
    TurnKind.out_of_scope,
    TurnKind.fallback,
    TurnKind.clarified,
    TurnKind.answered,
    TurnKind.form_step,
    TurnKind.other,
)
_RANK = {kind: rank for rank, kind in enumerate(STRONGEST_FIRST)}


def stronger(first: TurnKind, second: TurnKind) -> TurnKind:
    return first if _RANK[first] <= _RANK[second] else second


@dataclass(frozen=True)
class TurnOutcome:
    """What the assistant did with one message: the kind, the guide answered, the last reply."""

    kind: TurnKind = TurnKind.other
    guide_id: str | None = None
    section: str | None = None
    situation: str | None = None
    district: str | None = None  # of the hall a booking names
    replied_at: dt.datetime | None = None

    def merge(self, other: TurnOutcome) -> TurnOutcome:
        return TurnOutcome(
            kind=stronger(self.kind, other.kind),
            guide_id=self.guide_id or other.guide_id,
            section=self.section or other.section,
            situation=self.situation or other.situation,
            district=self.district or other.district,
            replied_at=max(filter(None, (self.replied_at, other.replied_at)), default=None),
        )

    @property
    def said_anything(self) -> bool:
        return self.kind is not TurnKind.other or self.replied_at is not None


@dataclass(frozen=True)
class TurnFact:
    """One resident message, masked, as the ingester assembled it from Rasa's events."""

    turn_id: str
    sender: str  # keyed pseudonym (services.log_privacy.pseudonym)
    channel: str
    at: dt.datetime  # naive local time
    text: str
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    district: str | None = None  # named in the words
    outcome: TurnOutcome = field(default_factory=TurnOutcome)


@dataclass(frozen=True)
class LateOutcome:
    """Replies whose question was stored by an earlier batch: they join the sender's latest turn
    at or before ``at`` (their first event)."""

    sender: str
    at: dt.datetime
    outcome: TurnOutcome


@dataclass(frozen=True)
class Recorded:
    added: int
    updated: int
    unmatched: int  # late replies with no turn to join


def record_turns(session: Session, turns: Sequence[TurnFact], late: Sequence[LateOutcome]) -> Recorded:
    """Upsert ``turns`` by turn id and merge ``late`` replies into the turns they answer."""
    added = updated = unmatched = 0
    for reply in late:  # they answer turns older than any of this batch's
        row = session.scalars(
            select(AnalyticsTurn)
            .where(AnalyticsTurn.sender == reply.sender, AnalyticsTurn.at <= reply.at)
            .order_by(AnalyticsTurn.at.desc(), AnalyticsTurn.id.desc())
            .limit(1)
        ).one_or_none()
        if row is None or reply.at - row.at > LATE_REPLY_WINDOW:
            unmatched += 1
            continue
        _apply(row, _outcome_of(row).merge(reply.outcome))
        updated += 1
    existing = {
        row.turn_id: row
        for row in session.scalars(
            select(AnalyticsTurn).where(AnalyticsTurn.turn_id.in_({t.turn_id for t in turns}))
        )
    }
    for fact in turns:
        row = existing.get(fact.turn_id)
        if row is None:
            row = AnalyticsTurn(turn_id=fact.turn_id, kind=TurnKind.other)
            session.add(row)
            existing[fact.turn_id] = row
            outcome = fact.outcome
            added += 1
        else:
            outcome = _outcome_of(row).merge(fact.outcome)
            updated += 1
        row.sender, row.channel, row.at = fact.sender, fact.channel, fact.at
        row.text, row.intent, row.confidence = fact.text, fact.intent, fact.confidence
        row.entities = fact.entities
        row.district = row.district or fact.district
        _apply(row, outcome)
    session.flush()
    return Recorded(added, updated, unmatched)


def cursor_position(session: Session, source: str) -> int:
    """How far ``source`` has been read (0 before its first batch)."""
    cursor = session.get(AnalyticsCursor, source)
    return cursor.position if cursor else 0


def move_cursor(session: Session, source: str, position: int, now: dt.datetime) -> None:
    cursor = session.get(AnalyticsCursor, source)
    if cursor is None:
        session.add(AnalyticsCursor(source=source, position=position, updated_at=now))
    else:
        cursor.position, cursor.updated_at = position, now


def _outcome_of(row: AnalyticsTurn) -> TurnOutcome:
    replied_at = None if row.latency_ms is None else row.at + dt.timedelta(milliseconds=row.latency_ms)
    return TurnOutcome(row.kind, row.guide_id, row.section, row.situation, row.district, replied_at)


def _apply(row: AnalyticsTurn, outcome: TurnOutcome) -> None:
    row.kind = outcome.kind
    row.guide_id, row.section, row.situation = outcome.guide_id, outcome.section, outcome.situation
    row.district = row.district or outcome.district
    row.latency_ms = (
        None
        if outcome.replied_at is None
        else round(max((outcome.replied_at - row.at).total_seconds(), 0.0) * 1000, 1)
    )
