"""The agents' side of a handoff after it is claimed: their replies and the resident's inbox.

Replies are rows (not process memory), so any gateway process can deliver them: the web widget
polls its inbox with the id of the last reply it saw; WeChat replies go out through the
customer-service API as well. Each reply is also appended to the handoff's transcript, which is
the conversation record agents read; the reply rows are the delivery queue with a stable cursor
(the transcript is trimmed from the front, so positions in it are not).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from services import audit, workdays
from services.context import Context
from services.errors import Conflict, InvalidInput, NotFound
from services.feedback import HandoffView, _handoff, _handoff_view
from services.identity import mask_text
from services.models import Handoff, HandoffReply, HandoffStatus
from services.text import check_sender, clean_text

REPLY_MAX_CHARS = 1000
INBOX_BATCH = 50
# When agents answer handoffs (the 12345 service centre's working day).
DESK_OPENS, DESK_CLOSES = dt.time(9, 0), dt.time(17, 0)
DESK_HOURS = "工作日 9:00—17:00"


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


def desk_hours(now: dt.datetime) -> DeskHours:
    day = now.date()
    if workdays.is_working_day(day) and DESK_OPENS <= now.time() < DESK_CLOSES:
        return DeskHours(open_now=True, text=f"人工服务时间：{DESK_HOURS}")
    before_opening = workdays.is_working_day(day) and now.time() < DESK_OPENS
    next_day = day if before_opening else workdays.next_working_day(day)
    when = "今天" if next_day == day else f"{next_day.month}月{next_day.day}日"
    return DeskHours(
        open_now=False,
        text=f"现在不在人工服务时间（{DESK_HOURS}），工作人员{when} 9:00 上班后会回复您；急事请拨打 12345",
    )


def queue_position(session: Session, handoff: Handoff) -> int | None:
    if handoff.status is not HandoffStatus.waiting:
        return None
    ahead = session.scalars(
        select(Handoff.id).where(
            Handoff.status == HandoffStatus.waiting,
            or_(
                Handoff.created_at < handoff.created_at,
                and_(Handoff.created_at == handoff.created_at, Handoff.id < handoff.id),
            ),
        )
    ).all()
    return len(ahead) + 1


def open_handoff_of(session: Session, sender_id: str) -> Handoff | None:
    return session.scalars(
        select(Handoff)
        .where(Handoff.sender_id == check_sender(sender_id), Handoff.status != HandoffStatus.closed)
        .order_by(Handoff.id.desc())
    ).first()


def waiting_view(session: Session, ctx: Context, handoff: Handoff) -> WaitingView:
    return WaitingView(
        handoff=_handoff_view(handoff), position=queue_position(session, handoff), hours=desk_hours(ctx.now)
    )


def withdraw(session: Session, ctx: Context, sender_id: str) -> HandoffView | None:
    """The resident stops waiting (结束人工): their open handoff closes; None when there is none."""
    handoff = open_handoff_of(session, sender_id)
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
    return _handoff_view(handoff)


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


def get_handoff(session: Session, ticket: str) -> HandoffView:
    number = (ticket or "").strip().upper()
    handoff = (
        session.scalars(select(Handoff).where(Handoff.ticket == number)).one_or_none()
        if len(number) <= 32
        else None
    )
    if handoff is None:
        raise NotFound("没有找到这个转人工工单。", field="ticket")
    return _handoff_view(handoff)


def agent_handoffs(session: Session, agent: str, *, limit: int = 50) -> list[HandoffView]:
    """The conversations ``agent`` has claimed and not yet closed, oldest first."""
    name = clean_text(agent, field="agent", label="工作人员", max_chars=60, required=True)
    rows = session.scalars(
        select(Handoff)
        .where(Handoff.status == HandoffStatus.claimed, Handoff.agent == name)
        .order_by(Handoff.claimed_at)
        .limit(max(1, min(limit, 200)))
    )
    return [_handoff_view(row) for row in rows]


def reply(session: Session, ctx: Context, ticket: str, *, agent: str, text: str) -> ReplyView:
    """Store the agent's message to the resident; only the agent who claimed the handoff may write."""
    name = clean_text(agent, field="agent", label="工作人员", max_chars=60, required=True) or agent
    body = clean_text(text, field="text", label="回复内容", max_chars=REPLY_MAX_CHARS, required=True) or ""
    handoff = _handoff(session, ticket)
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
    limit = ctx.settings.max_transcript_messages
    handoff.transcript = [
        *handoff.transcript,
        {"role": "agent", "text": body, "at": ctx.now.isoformat()},
    ][-limit:]
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
    hours = desk_hours(ctx.now)
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
        open_now=hours.open_now,
    )


def relay_to_agent(session: Session, ctx: Context, sender_id: str, text: str) -> WaitingView | None:
    """While a handoff is open — waiting in the queue or held by an agent — the resident's
    messages are for the person (added to the transcript the desk shows), not for the bot.
    None when no handoff is open."""
    handoff = open_handoff_of(session, sender_id)
    if handoff is None:
        return None
    body = clean_text(text, field="text", label="消息", max_chars=REPLY_MAX_CHARS, required=True) or ""
    handoff.transcript = [
        *handoff.transcript,
        {"role": "user", "text": mask_text(body), "at": ctx.now.isoformat()},
    ][-ctx.settings.max_transcript_messages :]
    session.flush()
    return waiting_view(session, ctx, handoff)
