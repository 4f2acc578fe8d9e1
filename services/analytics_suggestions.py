"""The most-asked services of a period, for “猜你想问” (reads analytics_turns only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.models import AnalyticsTurn, TurnKind


@dataclass(frozen=True)
class AskedGuide:
    """One guide residents were answered about, how often, and the section they asked most."""

    guide_id: str
    turns: int
    top_section: str | None


def most_asked_guides(session: Session, *, since: dt.datetime, limit: int) -> list[AskedGuide]:
    """Guides by answered turns since ``since``, most first (ties by id, so the order is stable)."""
    counted = func.count(AnalyticsTurn.id)
    guides = session.execute(
        select(AnalyticsTurn.guide_id, counted)
        .where(
            AnalyticsTurn.kind == TurnKind.answered,
            AnalyticsTurn.at >= since,
            AnalyticsTurn.guide_id.is_not(None),
        )
        .group_by(AnalyticsTurn.guide_id)
        .order_by(counted.desc(), AnalyticsTurn.guide_id)
        .limit(limit)
    ).all()
    if not guides:
        return []
    ids = [guide_id for guide_id, _ in guides]
    by_section = session.execute(
        select(AnalyticsTurn.guide_id, AnalyticsTurn.section, counted)
        .where(
            AnalyticsTurn.kind == TurnKind.answered,
            AnalyticsTurn.at >= since,
            AnalyticsTurn.guide_id.in_(ids),
            AnalyticsTurn.section.is_not(None),
        )
        .group_by(AnalyticsTurn.guide_id, AnalyticsTurn.section)
        .order_by(AnalyticsTurn.guide_id, counted.desc(), AnalyticsTurn.section)
    ).all()
    top: dict[str | None, str | None] = {}
    for guide_id, section, _count in by_section:
        top.setdefault(guide_id, section)
    return [AskedGuide(str(guide_id), int(count), top.get(guide_id)) for guide_id, count in guides]
