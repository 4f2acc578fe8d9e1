"""What is kept about residents, and for how long (``python -m services purge``).

Past the retention period (``ServicesSettings.retention_days``) go: Rasa's conversations (the
tracker store's events), handoffs with their transcript lines and agent replies (closed before the
cut-off, or left open with nothing said since), ratings, complaints finished (resolved or
closed) before it, and 代办 requests finished (done or cancelled) before it. Whenever the purge
runs, personal identifiers held for forms past their expiry and rate-limit counters of windows
long over go too.

Kept: the audit log (append-only and hash-chained: it is the proof of who did what), applications
with their timelines and appointments — records of administrative acts, kept under the archives
rules, not the conversation's retention; they hold personal identifiers only hashed and masked.

Rasa starts a new conversation session after an hour of silence (domain.yml session_config) and
reads a tracker from its latest session start, so deleting events older than the cut-off never
cuts into a conversation in progress.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    create_engine,
    delete,
    exists,
    inspect,
    make_url,
    or_,
    select,
    table,
)
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.dml import Delete

from services import analytics_store, audit, personal_holds, ratelimit
from services.context import Context
from services.db import is_sqlite
from services.facade import Services
from services.models import (
    AgencyRequest,
    AgencyStatus,
    AnalyticsTurn,
    Complaint,
    Handoff,
    HandoffLine,
    HandoffReply,
    HandoffStatus,
    PersonalDataHold,
    RateCounter,
    Rating,
    TicketStatus,
)

CONVERSATIONS = "events"  # Rasa's SQL tracker store: one row per event, `timestamp` in Unix seconds
BROKER_BUFFER = "broker_events"  # Rasa's SQL event broker (same table name, another file)
LABELS = {
    CONVERSATIONS: "Rasa 对话事件（含群众消息）",
    BROKER_BUFFER: "事件代理中已统计的事件",
    AnalyticsTurn.__tablename__: "对话分析记录（已脱敏）",
    HandoffLine.__tablename__: "转人工对话记录",
    HandoffReply.__tablename__: "坐席回复",
    Handoff.__tablename__: "转人工工单",
    Rating.__tablename__: "满意度评价",
    Complaint.__tablename__: "已办结的投诉与纠错",
    AgencyRequest.__tablename__: "已办结或取消的代办申请",
    PersonalDataHold.__tablename__: "已过期的身份证号、手机号暂存",
    RateCounter.__tablename__: "已结束的限流计数",
}


@dataclass(frozen=True)
class PurgeReport:
    cutoff: dt.datetime
    dry_run: bool
    deleted: dict[str, int]  # table → rows, in LABELS' order; dry runs count what would go


def purge(
    services: Services,
    *,
    older_than_days: int,
    conversation_store: str | None,
    broker_buffer: str | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete what is past retention (``dry_run``: the same deletions, rolled back, so the counts
    are exact). Conversations go first, in their own database; the purge itself is audited.
    ``broker_buffer``: the SQL event broker's database, whose rows the ingester has already
    turned into analytics (whatever their age: they are only a buffer)."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = services.context().now - dt.timedelta(days=older_than_days)
    deleted: dict[str, int] = {}
    if conversation_store:
        epoch = cutoff.replace(tzinfo=ZoneInfo(services.settings.timezone)).timestamp()
        deleted[CONVERSATIONS] = purge_conversations(conversation_store, epoch, dry_run=dry_run)
    if broker_buffer:
        with services.unit() as (session, _):
            ingested = analytics_store.cursor_position(session, analytics_store.SQL_BROKER_CURSOR)
        deleted[BROKER_BUFFER] = purge_broker_buffer(broker_buffer, ingested, dry_run=dry_run)
    with services.unit() as (session, ctx):
        deleted |= _purge_services(session, ctx, cutoff)
        if dry_run:
            session.rollback()
        else:
            audit.record(
                session,
                at=ctx.now,
                actor="cli:purge",
                action="retention.purge",
                target=None,
                result="deleted",
                detail={"older_than_days": older_than_days, **deleted},
            )
    return PurgeReport(cutoff, dry_run, {name: deleted[name] for name in LABELS if name in deleted})


def purge_conversations(url: str, before: float, *, dry_run: bool = False) -> int:
    """Delete Rasa tracker events older than ``before`` (Unix seconds); 0 when Rasa has not
    created its store yet."""
    events = table(CONVERSATIONS, column("timestamp"))
    return _delete_events(url, delete(events).where(events.c.timestamp < before), dry_run=dry_run)


def purge_broker_buffer(url: str, ingested_up_to: int, *, dry_run: bool = False) -> int:
    """Delete the SQL event broker's rows the ingester has read (ids up to its cursor)."""
    events = table(CONVERSATIONS, column("id"))
    return _delete_events(url, delete(events).where(events.c.id <= ingested_up_to), dry_run=dry_run)


def _delete_events(url: str, statement: Delete, *, dry_run: bool) -> int:
    if is_sqlite(url):
        database = make_url(url).database
        if not database or not Path(database).is_file():
            return 0
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(CONVERSATIONS):
                return 0
            rows = _rows(connection.execute(statement))
            if dry_run:
                connection.rollback()
            else:
                connection.commit()
            return rows
    finally:
        engine.dispose()


def _purge_services(session: Session, ctx: Context, cutoff: dt.datetime) -> dict[str, int]:
    expired = select(Handoff.id).where(_handoff_expired(cutoff))
    deleted = {
        HandoffLine.__tablename__: _delete(session, HandoffLine, HandoffLine.handoff_id.in_(expired)),
        HandoffReply.__tablename__: _delete(session, HandoffReply, HandoffReply.handoff_id.in_(expired)),
    }
    deleted[Handoff.__tablename__] = _delete(session, Handoff, _handoff_expired(cutoff))
    deleted[Rating.__tablename__] = _delete(session, Rating, Rating.created_at < cutoff)
    deleted[Complaint.__tablename__] = _delete(
        session,
        Complaint,
        Complaint.status.in_([TicketStatus.resolved, TicketStatus.closed]),
        Complaint.updated_at < cutoff,
    )
    deleted[AgencyRequest.__tablename__] = _delete(
        session,
        AgencyRequest,
        AgencyRequest.status.in_([AgencyStatus.done, AgencyStatus.cancelled]),
        AgencyRequest.updated_at < cutoff,
    )
    deleted[AnalyticsTurn.__tablename__] = _delete(session, AnalyticsTurn, AnalyticsTurn.at < cutoff)
    deleted[PersonalDataHold.__tablename__] = personal_holds.purge_expired(session, ctx)
    deleted[RateCounter.__tablename__] = ratelimit.sweep(session, ctx.now)
    return deleted


def _handoff_expired(cutoff: dt.datetime) -> ColumnElement[bool]:
    """Closed before the cut-off, or still open with nothing said since (a resident long gone,
    whose next message would otherwise still be relayed to a dead ticket)."""
    said_since = exists().where(HandoffLine.handoff_id == Handoff.id, HandoffLine.at >= cutoff)
    return or_(
        and_(Handoff.status == HandoffStatus.closed, Handoff.closed_at < cutoff),
        and_(Handoff.status != HandoffStatus.closed, Handoff.created_at < cutoff, ~said_since),
    )


def _delete(session: Session, model: type, *conditions: ColumnElement[bool]) -> int:
    return _rows(
        session.execute(delete(model).where(*conditions).execution_options(synchronize_session=False))
    )


def _rows(result: Result[Any]) -> int:
    return int(result.rowcount or 0) if isinstance(result, CursorResult) else 0
