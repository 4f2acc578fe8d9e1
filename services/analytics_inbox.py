"""The unanswered-question inbox's rows: turns the assistant fell back on, answered without enough
confidence, or whose answer a resident rated low, until 知识 staff review them.

Grouping the questions and the knowledge edits that follow live in workbench/; this module only
reads the candidates and records what was decided, audited under the signed-in staff login.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from services import audit
from services.context import Context
from services.errors import InvalidInput
from services.models import AnalyticsTurn, Rating, ReviewOutcome, TurnKind

MAX_REVIEW_TURNS = 1000
REVIEW_LABELS = {
    ReviewOutcome.alias: "加为别名",
    ReviewOutcome.faq: "加为常见问题",
    ReviewOutcome.out_of_scope: "不属于政务服务",
    ReviewOutcome.intent: "标注意图",
    ReviewOutcome.dismissed: "忽略",
}


class InboxTurn(BaseModel):
    """One candidate turn, with why it is in the inbox."""

    turn_id: str
    at: dt.datetime
    channel: str
    text: str
    kind: TurnKind
    intent: str | None
    confidence: float | None
    guide_id: str | None
    rating: int | None  # the lowest rating the answer got, if any
    reason: str  # fallback | low_confidence | low_rating


def candidates(
    session: Session,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    low_confidence: float,
    low_rating: int,
    limit: int,
    turn_ids: Sequence[str] | None = None,
) -> list[InboxTurn]:
    """Unreviewed candidates in [since, until), newest first (at most ``limit``); only those among
    ``turn_ids`` when given."""
    lowest = select(Rating.turn_id, func.min(Rating.score).label("score")).group_by(Rating.turn_id).subquery()
    unsure = and_(
        AnalyticsTurn.kind.in_((TurnKind.answered, TurnKind.clarified)),
        AnalyticsTurn.confidence.is_not(None),
        AnalyticsTurn.confidence < low_confidence,
    )
    query = (
        select(AnalyticsTurn, lowest.c.score)
        .outerjoin(lowest, lowest.c.turn_id == AnalyticsTurn.turn_id)
        .where(
            AnalyticsTurn.review.is_(None),
            or_(AnalyticsTurn.kind == TurnKind.fallback, unsure, lowest.c.score <= low_rating),
        )
        .order_by(AnalyticsTurn.at.desc(), AnalyticsTurn.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(AnalyticsTurn.at >= since)
    if until is not None:
        query = query.where(AnalyticsTurn.at < until)
    if turn_ids is not None:
        query = query.where(AnalyticsTurn.turn_id.in_(list(turn_ids)))
    rows = session.execute(query).all()
    return [_view(turn, score, low_rating) for turn, score in rows]


def review(
    session: Session,
    ctx: Context,
    turn_ids: Sequence[str],
    outcome: ReviewOutcome,
    *,
    detail: str | None,
    actor: str,
) -> int:
    """Record ``outcome`` on those of ``turn_ids`` nobody has reviewed yet; how many that was.
    One audit row for the group, naming the outcome, its detail and how many turns it covered."""
    ids = sorted(set(turn_ids))
    if not ids:
        raise InvalidInput("请选择要处理的问题。", field="turn_ids")
    if len(ids) > MAX_REVIEW_TURNS:
        raise InvalidInput(f"一次最多处理{MAX_REVIEW_TURNS}条问题。", field="turn_ids")
    detail = detail[:200] if detail else None
    result = session.execute(
        update(AnalyticsTurn)
        .where(AnalyticsTurn.turn_id.in_(ids), AnalyticsTurn.review.is_(None))
        .values(review=outcome, review_detail=detail, reviewed_by=actor[:128], reviewed_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="inbox.review",
        target=detail[:64] if detail else None,
        result=outcome.value,
        detail={"outcome": REVIEW_LABELS[outcome], "detail": detail, "turns": count, "asked": len(ids)},
    )
    return count


def record_publish(session: Session, ctx: Context, *, actor: str, result: str, detail: dict) -> None:
    """The 发布 button: which index build a member of staff started and what it reported."""
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="knowledge.publish",
        target=None,
        result=result,
        detail=detail,
    )


def _view(turn: AnalyticsTurn, score: int | None, low_rating: int) -> InboxTurn:
    if turn.kind is TurnKind.fallback:
        reason = "fallback"
    elif score is not None and score <= low_rating:
        reason = "low_rating"
    else:
        reason = "low_confidence"
    return InboxTurn(
        turn_id=turn.turn_id,
        at=turn.at,
        channel=turn.channel,
        text=turn.text,
        kind=turn.kind,
        intent=turn.intent,
        confidence=turn.confidence,
        guide_id=turn.guide_id,
        rating=score,
        reason=reason,
    )
