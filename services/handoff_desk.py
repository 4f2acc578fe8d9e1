"""Handoffs to a human agent (转人工), from the resident's request to the agent's last word.

A handoff waits in the queue, is claimed by one agent, and is closed by that agent (or withdrawn
by the resident). Its transcript is rows that are only ever inserted — the resident's relayed
messages and the agent's replies may arrive at the same moment and neither can overwrite the
other. Agent replies are also rows of their own (``HandoffReply``), the delivery queue with a
stable cursor: the web widget polls its inbox with the id of the last reply it saw; WeChat
replies go out through the customer-service API as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from services import audit, workdays
from services.context import Context
from services.errors import Conflict, InvalidInput, NotFound
from services.identity import mask_text
from services.models import Handoff, HandoffLine, HandoffReply, HandoffStatus
from services.numbers import next_number
from services.text import check_channel, check_sender, clean_text

HANDOFF_PREFIX = "RG"
REPLY_MAX_CHARS = 1000
INBOX_BATCH = 50
# When agents answer handoffs (the 12345 service centre's working day).
DESK_OPENS, DESK_CLOSES = dt.time(9, 0), dt.time(17, 0)
DESK_HOURS = "工作日 9:00—17:00"


class TranscriptMessage(BaseModel):
    role: Literal["user", "bot", "agent"]
    text: str
    at: dt.datetime | None = None


class HandoffRequest(BaseModel):
    sender_id: str
    channel: str
    transcript: list[TranscriptMessage]
    reason: str | None = None


class HandoffView(BaseModel):
    ticket: str
    sender_id: str
    channel: str
    reason: str | None
    status: HandoffStatus
    agent: str | None
    transcript: list[TranscriptMessage] = Field(description="The latest lines, oldest first")
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None


class DeskHours(BaseModel):
    open_now: bool
    text: str = Field(description="What a waiting resident is told about when a person will answer")


class WaitingView(BaseModel):
    """A resident's open handoff as they see it: where they are in the queue and when to expect a person."""

    handoff: HandoffView
    position: int | None = Field(description="1 = next to be taken; None once an agent has it")
    hours: DeskHours

    @property
    def ahead(self) -> str:
        """前面还有N位， — empty when next in line or already taken."""
        return f"前面还有{self.position - 1}位，" if self.position and self.position > 1 else ""

    def card(self) -> dict[str, Any]:
        """What channels render as the waiting state (the widget's queue banner)."""
        return {
            "type": "handoff",
            "ticket": self.handoff.ticket,
            "state": self.handoff.status.value,
            "position": self.position,
            "open_now": self.hours.open_now,
        }


class ReplyView(BaseModel):
    id: int
    ticket: str
    sender_id: str
    agent: str
    text: str
    created_at: dt.datetime


class InboxView(BaseModel):
    """New agent replies for one resident, and whether their handoff is still open."""

    sender_id: str
    messages: list[ReplyView]
    ticket: str | None
    status: HandoffStatus | None
    open: bool
    position: int | None = Field(default=None, description="Place in the queue while waiting (1 = next)")
    hours: str = DESK_HOURS
    open_now: bool = True


# --- the resident's side --------------------------------------------------------------------------


def open_handoff(session: Session, ctx: Context, request: HandoffRequest) -> HandoffView:
    """Queue the conversation for a human; a sender already waiting keeps one ticket, transcript extended."""
    sender_id = check_sender(request.sender_id)
    channel = check_channel(request.channel)
    reason = clean_text(request.reason, field="reason", label="转人工原因", max_chars=200)
    settings = ctx.settings
    if len(request.transcript) > settings.max_transcript_messages:
        raise InvalidInput(f"对话记录不能超过{settings.max_transcript_messages}条。", field="transcript")
    if sum(len(message.text) for message in request.transcript) > settings.max_transcript_chars:
        raise InvalidInput(f"对话记录总长度不能超过{settings.max_transcript_chars}个字。", field="transcript")
    handoff = open_handoff_of(session, sender_id, lock=True)
    if handoff is None:
        handoff = Handoff(
            ticket=next_number(session, HANDOFF_PREFIX, ctx.today),
            sender_id=sender_id,
            channel=channel,
            reason=reason,
            status=HandoffStatus.waiting,
            created_at=ctx.now,
        )
        session.add(handoff)
        session.flush()
    else:
        handoff.reason = reason or handoff.reason
    for message in request.transcript:
        _add_line(session, handoff, message.role, message.text, message.at or ctx.now)
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=sender_id,
        action="handoff.open",
        target=handoff.ticket,
        result=handoff.status.value,
    )
    return _view(session, ctx, handoff)


def relay_to_agent(session: Session, ctx: Context, sender_id: str, text: str) -> WaitingView | None:
    """While a handoff is open — waiting in the queue or held by an agent — the resident's
    messages are for the person (added to the transcript the desk shows), not for the bot.
    None when no handoff is open."""
    handoff = open_handoff_of(session, sender_id, lock=True)
    if handoff is None:
        return None
    body = clean_text(text, field="text", label="消息", max_chars=REPLY_MAX_CHARS, required=True) or ""
    _add_line(session, handoff, "user", body, ctx.now)
    session.flush()
    return waiting_view(session, ctx, handoff)


def withdraw(session: Session, ctx: Context, sender_id: str) -> HandoffView | None:
    """The resident stops waiting (结束人工): their open handoff closes; None when there is none."""
    handoff = open_handoff_of(session, sender_id, lock=True)
    if handoff is None:
        return None
    handoff.status = HandoffStatus.closed
    handoff.closed_at = ctx.now
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=handoff.sender_id,
        action="handoff.withdraw",
        target=handoff.ticket,
        result="closed",
    )
    return _view(session, ctx, handoff)


def open_handoff_of(session: Session, sender_id: str, *, lock: bool = False) -> Handoff | None:
    """The sender's waiting or claimed handoff; ``lock`` holds its row until the transaction ends."""
    query = (
        select(Handoff)
        .where(Handoff.sender_id == check_sender(sender_id), Handoff.status != HandoffStatus.closed)
        .order_by(Handoff.id.desc())
    )
    return session.scalars(query.with_for_update() if lock else query).first()


def waiting_view(session: Session, ctx: Context, handoff: Handoff) -> WaitingView:
    return WaitingView(
        handoff=_view(session, ctx, handoff),
        position=queue_position(session, handoff),
        hours=desk_hours(ctx.now),
    )


def queue_position(session: Session, handoff: Handoff) -> int | None:
    if handoff.status is not HandoffStatus.waiting:
        return None
    ahead = session.scalar(
        select(func.count()).where(
            Handoff.status == HandoffStatus.waiting,
            or_(
                Handoff.created_at < handoff.created_at,
                and_(Handoff.created_at == handoff.created_at, Handoff.id < handoff.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def desk_hours(now: dt.datetime) -> DeskHours:
    day = now.date()
    if workdays.is_working_day(day) and DESK_OPENS <= now.time() < DESK_CLOSES:
        return DeskHours(open_now=True, text=f"人工服务时间：{DESK_HOURS}")
    before_opening = workdays.is_working_day(day) and now.time() < DESK_OPENS
    next_day = day if before_opening else workdays.next_working_day(day + dt.timedelta(days=1))
    tomorrow = day + dt.timedelta(days=1)
    when = (
        "今天"
        if next_day == day
        else "明天"
        if next_day == tomorrow
        else f"{next_day.month}月{next_day.day}日"
    )
    return DeskHours(
        open_now=False,
        text=f"现在不在人工服务时间（{DESK_HOURS}），工作人员{when} 9:00 上班后会回复您；急事请拨打 12345",
    )


def inbox(session: Session, ctx: Context, sender_id: str, *, after: int = 0) -> InboxView:
    sender = check_sender(sender_id)
    if after < 0:
        raise InvalidInput("after 应为不小于0的整数。", field="after")
    rows = session.execute(
        select(HandoffReply, Handoff.ticket)
        .join(Handoff, Handoff.id == HandoffReply.handoff_id)
        .where(HandoffReply.sender_id == sender, HandoffReply.id > after)
        .order_by(HandoffReply.id)
        .limit(INBOX_BATCH)
    ).all()
    latest = session.scalars(
        select(Handoff).where(Handoff.sender_id == sender).order_by(Handoff.id.desc()).limit(1)
    ).first()
    return InboxView(
        sender_id=sender,
        messages=[
            ReplyView(
                id=r.id, ticket=ticket, sender_id=sender, agent=r.agent, text=r.text, created_at=r.created_at
            )
            for r, ticket in rows
        ],
        ticket=latest.ticket if latest else None,
        status=latest.status if latest else None,
        open=latest is not None and latest.status is not HandoffStatus.closed,
        position=queue_position(session, latest) if latest else None,
        hours=DESK_HOURS,
        open_now=desk_hours(ctx.now).open_now,
    )


# --- the agent's side -----------------------------------------------------------------------------


def waiting_handoffs(session: Session, ctx: Context, *, limit: int = 50) -> list[HandoffView]:
    rows = session.scalars(
        select(Handoff)
        .where(Handoff.status == HandoffStatus.waiting)
        .order_by(Handoff.created_at, Handoff.id)
        .limit(max(1, min(limit, 200)))
    ).all()
    return _views(session, ctx, rows)


def agent_handoffs(session: Session, ctx: Context, agent: str, *, limit: int = 50) -> list[HandoffView]:
    """The conversations ``agent`` has claimed and not yet closed, oldest first."""
    name = _agent_name(agent)
    rows = session.scalars(
        select(Handoff)
        .where(Handoff.status == HandoffStatus.claimed, Handoff.agent == name)
        .order_by(Handoff.claimed_at)
        .limit(max(1, min(limit, 200)))
    ).all()
    return _views(session, ctx, rows)


def get_handoff(session: Session, ctx: Context, ticket: str) -> HandoffView:
    return _view(session, ctx, _find(session, ticket))


def claim(session: Session, ctx: Context, ticket: str, *, agent: str) -> HandoffView:
    name = _agent_name(agent)
    handoff = _find(session, ticket, lock=True)
    if handoff.status is not HandoffStatus.waiting:
        raise Conflict("该会话已被其他工作人员接入或已结束。", field="ticket")
    handoff.status = HandoffStatus.claimed
    handoff.agent = name
    handoff.claimed_at = ctx.now
    session.flush()
    audit.record(
        session, at=ctx.now, actor=name, action="handoff.claim", target=handoff.ticket, result="claimed"
    )
    return _view(session, ctx, handoff)


def reply(session: Session, ctx: Context, ticket: str, *, agent: str, text: str) -> ReplyView:
    """Store the agent's message to the resident; only the agent who claimed the handoff may write."""
    name = _agent_name(agent)
    body = clean_text(text, field="text", label="回复内容", max_chars=REPLY_MAX_CHARS, required=True) or ""
    handoff = _find(session, ticket, lock=True)
    if handoff.status is HandoffStatus.waiting:
        raise Conflict("请先接入该会话，再回复群众。", field="ticket")
    if handoff.status is HandoffStatus.closed:
        raise Conflict("该会话已结束，不能再回复。", field="ticket")
    if handoff.agent != name:
        raise Conflict(f"该会话由“{handoff.agent}”接入，不能代为回复。", field="agent")
    row = HandoffReply(
        handoff_id=handoff.id, sender_id=handoff.sender_id, agent=name, text=body, created_at=ctx.now
    )
    session.add(row)
    _add_line(session, handoff, "agent", body, ctx.now)
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=name,
        action="handoff.reply",
        target=handoff.ticket,
        result="stored",
        detail={"channel": handoff.channel, "chars": len(body)},
    )
    return ReplyView(
        id=row.id,
        ticket=handoff.ticket,
        sender_id=handoff.sender_id,
        agent=name,
        text=body,
        created_at=row.created_at,
    )


def close(session: Session, ctx: Context, ticket: str, *, agent: str) -> HandoffView:
    """Only the agent who claimed a handoff may close it. A handoff still waiting may be closed by
    any agent (a duplicate, or a resident long gone); the audit row says it was never taken."""
    name = _agent_name(agent)
    handoff = _find(session, ticket, lock=True)
    if handoff.status is HandoffStatus.closed:
        raise Conflict("该会话已结束。", field="ticket")
    if handoff.status is HandoffStatus.claimed and handoff.agent != name:
        raise Conflict(f"该会话由“{handoff.agent}”接入，只有接入的工作人员可以结束。", field="agent")
    was = handoff.status
    handoff.status = HandoffStatus.closed
    handoff.closed_at = ctx.now
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=name,
        action="handoff.close",
        target=handoff.ticket,
        result="closed",
        detail={"was": was.value},
    )
    return _view(session, ctx, handoff)


# --- rows and views -------------------------------------------------------------------------------


def _agent_name(agent: str) -> str:
    return clean_text(agent, field="agent", label="工作人员", max_chars=60, required=True) or agent


def _find(session: Session, ticket: str, *, lock: bool = False) -> Handoff:
    number = (ticket or "").strip().upper()
    query = select(Handoff).where(Handoff.ticket == number)
    if lock:
        query = query.with_for_update()
    handoff = session.scalars(query).one_or_none() if len(number) <= 32 else None
    if handoff is None:
        raise NotFound("没有找到这个转人工工单。", field="ticket")
    return handoff


def _add_line(session: Session, handoff: Handoff, role: str, text: str, at: dt.datetime) -> None:
    # The transcript is a record agents read: it needs the conversation, not ID or phone numbers.
    session.add(HandoffLine(handoff_id=handoff.id, role=role, text=mask_text(text), at=at))


def _view(session: Session, ctx: Context, handoff: Handoff) -> HandoffView:
    return _views(session, ctx, [handoff])[0]


def _views(session: Session, ctx: Context, handoffs: Sequence[Handoff]) -> list[HandoffView]:
    """Views with each handoff's latest ``max_transcript_messages`` lines, read in one query."""
    transcripts = _latest_lines(session, [h.id for h in handoffs], ctx.settings.max_transcript_messages)
    return [
        HandoffView(
            ticket=handoff.ticket,
            sender_id=handoff.sender_id,
            channel=handoff.channel,
            reason=handoff.reason,
            status=handoff.status,
            agent=handoff.agent,
            transcript=transcripts.get(handoff.id, []),
            created_at=handoff.created_at,
            claimed_at=handoff.claimed_at,
            closed_at=handoff.closed_at,
        )
        for handoff in handoffs
    ]


def _latest_lines(session: Session, ids: list[int], limit: int) -> dict[int, list[TranscriptMessage]]:
    if not ids:
        return {}
    newest_first = func.row_number().over(partition_by=HandoffLine.handoff_id, order_by=HandoffLine.id.desc())
    ranked = select(HandoffLine, newest_first.label("rank")).where(HandoffLine.handoff_id.in_(ids)).subquery()
    line = aliased(HandoffLine, ranked)
    rows = session.scalars(select(line).where(ranked.c.rank <= limit).order_by(line.handoff_id, line.id))
    transcripts: dict[int, list[TranscriptMessage]] = {}
    for row in rows:
        transcripts.setdefault(row.handoff_id, []).append(
            TranscriptMessage.model_validate({"role": row.role, "text": row.text, "at": row.at})
        )
    return transcripts
