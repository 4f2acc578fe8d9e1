"""Satisfaction ratings and complaints (投诉 / 曝光纠错); handoffs live in services/handoff_desk.py."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from services import audit, catalog
from services.context import Context
from services.errors import InvalidInput, InvalidTransition, NotFound
from services.identity import mask_phone, mask_text, validate_phone
from services.log_privacy import pseudonym
from services.models import AnalyticsTurn, Complaint, ComplaintKind, Rating, TicketStatus
from services.numbers import next_number
from services.text import check_channel, check_sender, clean_text

COMPLAINT_PREFIX = "TS"
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
    turn_id: str | None = None  # the answer complained about (the chat response's turn_id)


class ComplaintView(BaseModel):
    """What anyone holding the tracking number sees: the state, never the content or the contact."""

    tracking_number: str
    kind: ComplaintKind
    kind_label: str
    status: TicketStatus
    status_label: str
    created_at: dt.datetime
    updated_at: dt.datetime


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
    _check_own_turn(session, ctx, sender_id, turn_id or "")
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


def _check_own_turn(session: Session, ctx: Context, sender_id: str, turn_id: str) -> None:
    """A resident rates only answers they were given: the turn, once ingested, names its sender
    by pseudonym. A turn not ingested yet (the last second or two) is taken on trust."""
    turn_sender = session.scalar(select(AnalyticsTurn.sender).where(AnalyticsTurn.turn_id == turn_id))
    if turn_sender is not None and turn_sender != pseudonym(sender_id, secret=ctx.settings.secret_key):
        raise InvalidInput("只能评价您自己收到的回答。", field="turn_id")


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
    turn_id = clean_text(request.turn_id, field="turn_id", label="对话轮次编号", max_chars=64)
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
        turn_id=turn_id or None,
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
    complaint = _complaint(session, tracking_number, lock=True)
    if status not in TICKET_FLOW[complaint.status]:
        raise InvalidTransition(
            f"工单当前为“{TICKET_LABELS[complaint.status]}”，不能改为“{TICKET_LABELS[status]}”。",
            field="status",
        )
    previous = complaint.status
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
        detail={"from": previous.value},
    )
    return _complaint_view(complaint)


def _complaint(session: Session, tracking_number: str, *, lock: bool = False) -> Complaint:
    number = (tracking_number or "").strip().upper()
    query = select(Complaint).where(Complaint.tracking_number == number)
    if lock:
        query = query.with_for_update()
    complaint = session.scalars(query).one_or_none() if len(number) <= 32 else None
    if complaint is None:
        raise NotFound("没有找到这个工单编号，请核对。", field="tracking_number")
    return complaint


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
