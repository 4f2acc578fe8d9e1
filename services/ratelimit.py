"""Fixed-window counters in the database, so every gateway replica and action server shares them.

A fixed window is a little generous at window edges (up to twice the limit across a boundary)
but needs one row per key and one atomic upsert per hit, on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.models import RateCounter
from services.sql import insert_for

_EPOCH = dt.datetime(2000, 1, 1)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window resets


def _window(now: dt.datetime, window_seconds: int) -> tuple[dt.datetime, int]:
    elapsed = int((now - _EPOCH).total_seconds())
    start = elapsed - elapsed % window_seconds
    return _EPOCH + dt.timedelta(seconds=start), window_seconds - (elapsed - start)


def hit(session: Session, key: str, *, limit: int, window_seconds: int, now: dt.datetime) -> RateDecision:
    """Count one hit for ``key``; allowed while the window's count stays within ``limit``."""
    start, retry_after = _window(now, window_seconds)
    statement = insert_for(session, RateCounter).values(key=key, window_start=start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[RateCounter.key, RateCounter.window_start], set_={"count": RateCounter.count + 1}
    ).returning(RateCounter.count)
    count = int(session.execute(statement).scalar_one())
    if count == 1:
        # A new window began: older windows of this key are dead weight, so the table stays one row per key.
        session.execute(delete(RateCounter).where(RateCounter.key == key, RateCounter.window_start < start))
    return RateDecision(count <= limit, count, retry_after)


def current(session: Session, key: str, *, window_seconds: int, now: dt.datetime) -> RateDecision:
    """The count so far in this window, without adding a hit (allowed is always True)."""
    start, retry_after = _window(now, window_seconds)
    count = session.scalar(
        select(RateCounter.count).where(RateCounter.key == key, RateCounter.window_start == start)
    )
    return RateDecision(True, int(count or 0), retry_after)
