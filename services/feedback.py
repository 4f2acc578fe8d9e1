"""Satisfaction ratings, complaints (投诉 / 曝光纠错) and handoff tickets to a human agent."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from services import audit, catalog
from services.context import Context
from services.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from services.identity import mask_phone, mask_text, validate_phone
from services.models import Complaint, ComplaintKind, Handoff, HandoffStatus, Rating, TicketStatus
from services.numbers import next_number
from services.text import check_channel, check_sender, clean_text

COMPLAINT_PREFIX = "TS"
HANDOFF_PREFIX = "RG"
KIND_LABELS = {ComplaintKind.complaint: "投诉", ComplaintKind.correction: "曝光纠错"}
TICKET_LABELS = {
    TicketStatus.open: "已登记，待处理",
    TicketStatus.processing: "处理中",
    TicketStatus.resolved: "已办结",
    TicketStatus.closed: "已关闭",
}
TICKET_FLOW = {
    TicketStatus.open: {TicketStatus.processing, TicketStatus.resolved, TicketStatus.closed},
    TicketStatus.processing: {TicketStatus.resolved, TicketStatus.closed},
    TicketStatus.resolved: {TicketStatus.closed},
    TicketStatus.closed: set(),
}


class RatingRequest(BaseModel):
    sender_id: str
    turn_id: str
    score: int
    guide_id: str | None = None
    comment: str | None = None
    channel: str = "web"


class RatingView(BaseModel):
    turn_id: str
    guide_id: str | None
    score: int
    comment: str | None
    created_at: dt.datetime


class ComplaintRequest(BaseModel):
    sender_id: str
    kind: ComplaintKind
    content: str
    guide_id: str | None = None
    contact_phone: str | None = None
    channel: str = "web"


class ComplaintView(BaseModel):
    """What anyone holding the tracking number sees: the state, never the content or the contact."""

    tracking_number: str
    kind: ComplaintKind
    kind_label: str
    status: TicketStatus
    status_label: str
    created_at: dt.datetime
    updated_at: dt.datetime


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
    transcript: list[TranscriptMessage]
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None


def rate(session: Session, ctx: Context, request: RatingRequest) -> RatingView:
    """Record a 1–5 rating of one answer; rating the same turn again replaces the earlier one."""
    sender_id = check_sender(request.sender_id)
    channel = check_channel(request.channel)
    turn_id = clean_text(request.turn_id, field="turn_id", label="对话轮次编号", max_chars=64, required=True)
    if isinstance(request.score, bool) or not 1 <= request.score <= 5:
        raise InvalidInput("评分应为1到5之间的整数（5为非常满意）。", field="score")
    comment = clean_text(
        request.comment, field="comment", label="评价内容", max_chars=ctx.settings.max_comment_chars
    )
    guide_id = catalog.get_service(session, request.guide_id).id if request.guide_id else None
    rating = session.scalars(
        select(Rating).where(Rating.sender_id == sender_id, Rating.turn_id == turn_id)
    ).one_or_none()
    if rating is None:
        rating = Rating(sender_id=sender_id, turn_id=turn_id, channel=channel)
        session.add(rating)
    rating.guide_id = guide_id
    rating.score = request.score
    rating.comment = mask_text(comment) if comment else None
    rating.created_at = ctx.now
    session.flush()
    return RatingView.model_validate(rating, from_attributes=True)


def open_complaint(session: Session, ctx: Context, request: ComplaintRequest) -> ComplaintView:
    sender_id = check_sender(request.sender_id)
    channel = check_channel(request.channel)
    content = clean_text(
        request.content,
        field="content",
        label="投诉或纠错内容",
        max_chars=ctx.settings.max_complaint_chars,
        required=True,
    )
    guide_id = catalog.get_service(session, request.guide_id).id if request.guide_id else None
    phone = validate_phone(request.contact_phone) if request.contact_phone else None
    complaint = Complaint(
        tracking_number=next_number(session, COMPLAINT_PREFIX, ctx.today),
        kind=request.kind,
        content=mask_text(content or ""),
        guide_id=guide_id,
        sender_id=sender_id,
        channel=channel,
        contact_masked=mask_phone(phone) if phone else None,
        contact_hash=ctx.hash("phone", phone) if phone else None,
        status=TicketStatus.open,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    session.add(complaint)
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=sender_id,
        action="complaint.open",
        target=complaint.tracking_number,
        result="open",
        detail={"kind": complaint.kind.value},
    )
    return _complaint_view(complaint)


def complaint_status(session: Session, tracking_number: str) -> ComplaintView:
    return _complaint_view(_complaint(session, tracking_number))


def update_complaint(
    session: Session,
    ctx: Context,
    tracking_number: str,
    status: TicketStatus,
    *,
    actor: str,
    resolution: str | None = None,
) -> ComplaintView:
    """Staff side: move the ticket along open → processing → resolved → closed."""
    complaint = _complaint(session, tracking_number)
    if status not in TICKET_FLOW[complaint.status]:
        raise InvalidTransition(
            f"工单当前为“{TICKET_LABELS[complaint.status]}”，不能改为“{TICKET_LABELS[status]}”。",
            field="status",
        )
    complaint.status = status
    complaint.resolution = (
        clean_text(resolution, field="resolution", label="处理结果", max_chars=2000) or complaint.resolution
    )
    complaint.updated_at = ctx.now
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="complaint.update",
        target=complaint.tracking_number,
        result=status.value,
    )
    return _complaint_view(complaint)


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
    # Agents need the conversation, not the resident's ID or phone number in clear.
    messages: list[dict[str, Any]] = [
        {"role": m.role, "text": mask_text(m.text), "at": (m.at or ctx.now).isoformat()}
        for m in request.transcript
    ]
    handoff = session.scalars(
        select(Handoff)
        .where(Handoff.sender_id == sender_id, Handoff.status != HandoffStatus.closed)
        .order_by(Handoff.id.desc())
    ).first()
    if handoff is None:
        handoff = Handoff(
            ticket=next_number(session, HANDOFF_PREFIX, ctx.today),
            sender_id=sender_id,
            channel=channel,
            reason=reason,
            transcript=messages,
            status=HandoffStatus.waiting,
            created_at=ctx.now,
        )
        session.add(handoff)
    else:
        handoff.transcript = [*handoff.transcript, *messages][-settings.max_transcript_messages :]
        handoff.reason = reason or handoff.reason
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=sender_id,
        action="handoff.open",
        target=handoff.ticket,
        result=handoff.status.value,
    )
    return _handoff_view(handoff)


def waiting_handoffs(session: Session, *, limit: int = 50) -> list[HandoffView]:
    rows = session.scalars(
        select(Handoff)
        .where(Handoff.status == HandoffStatus.waiting)
        .order_by(Handoff.created_at)
        .limit(limit)
    )
    return [_handoff_view(row) for row in rows]


def claim_handoff(session: Session, ctx: Context, ticket: str, *, agent: str) -> HandoffView:
    handoff = _handoff(session, ticket)
    if handoff.status is not HandoffStatus.waiting:
        raise Conflict("该会话已被其他工作人员接入或已结束。", field="ticket")
    handoff.status = HandoffStatus.claimed
    handoff.agent = clean_text(agent, field="agent", label="工作人员", max_chars=60, required=True)
    handoff.claimed_at = ctx.now
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=handoff.agent or agent,
        action="handoff.claim",
        target=ticket,
        result="claimed",
    )
    return _handoff_view(handoff)


def close_handoff(session: Session, ctx: Context, ticket: str, *, agent: str) -> HandoffView:
    handoff = _handoff(session, ticket)
    if handoff.status is HandoffStatus.closed:
        raise Conflict("该会话已结束。", field="ticket")
    handoff.status = HandoffStatus.closed
    handoff.closed_at = ctx.now
    session.flush()
    audit.record(session, at=ctx.now, actor=agent, action="handoff.close", target=ticket, result="closed")
    return _handoff_view(handoff)


def _complaint(session: Session, tracking_number: str) -> Complaint:
    number = (tracking_number or "").strip().upper()
    complaint = (
        session.scalars(select(Complaint).where(Complaint.tracking_number == number)).one_or_none()
        if len(number) <= 32
        else None
    )
    if complaint is None:
        raise NotFound("没有找到这个工单编号，请核对。", field="tracking_number")
    return complaint


def _handoff(session: Session, ticket: str) -> Handoff:
    number = (ticket or "").strip().upper()
    handoff = (
        session.scalars(select(Handoff).where(Handoff.ticket == number).with_for_update()).one_or_none()
        if len(number) <= 32
        else None
    )
    if handoff is None:
        raise NotFound("没有找到这个转人工工单。", field="ticket")
    return handoff


def _complaint_view(complaint: Complaint) -> ComplaintView:
    return ComplaintView(
        tracking_number=complaint.tracking_number,
        kind=complaint.kind,
        kind_label=KIND_LABELS[complaint.kind],
        status=complaint.status,
        status_label=TICKET_LABELS[complaint.status],
        created_at=complaint.created_at,
        updated_at=complaint.updated_at,
    )


def _handoff_view(handoff: Handoff) -> HandoffView:
    return HandoffView(
        ticket=handoff.ticket,
        sender_id=handoff.sender_id,
        channel=handoff.channel,
        reason=handoff.reason,
        status=handoff.status,
        agent=handoff.agent,
        transcript=[TranscriptMessage.model_validate(message) for message in handoff.transcript],
        created_at=handoff.created_at,
        claimed_at=handoff.claimed_at,
        closed_at=handoff.closed_at,
    )
