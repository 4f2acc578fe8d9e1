"""Fixed-window counters in the database, so every gateway replica and action server shares them.

A fixed window is a little generous at window edges (up to twice the limit across a boundary)
but needs one row per key and one atomic upsert per hit, on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from services.models import RateCounter
from services.sql import insert_for

_EPOCH = dt.datetime(2000, 1, 1)
# The longest window any caller may use: a row whose window started longer ago than this is dead.
MAX_WINDOW_SECONDS = 24 * 60 * 60
# How often one process clears dead rows of keys never hit again (one resident's lookups, one phone).
SWEEP_EVERY_SECONDS = 600.0


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window resets


def _window(now: dt.datetime, window_seconds: int) -> tuple[dt.datetime, int]:
    if not 1 <= window_seconds <= MAX_WINDOW_SECONDS:
        raise ValueError(f"window_seconds must be within 1…{MAX_WINDOW_SECONDS}, got {window_seconds}")
    elapsed = int((now - _EPOCH).total_seconds())
    start = elapsed - elapsed % window_seconds
    return _EPOCH + dt.timedelta(seconds=start), window_seconds - (elapsed - start)


class _SweepSchedule:
    """When this process last swept; a hit that opens a window sweeps if that was long enough ago."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._due = 0.0

    def due(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now < self._due:
                return False
            self._due = now + SWEEP_EVERY_SECONDS
            return True


_schedule = _SweepSchedule()


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
        if _schedule.due():
            sweep(session, now)
    return RateDecision(count <= limit, count, retry_after)


def sweep(session: Session, now: dt.datetime) -> int:
    """Delete the rows of every window over by ``now``, so keys never hit again do not pile up.

    Rows another transaction holds are skipped (PostgreSQL's SKIP LOCKED; SQLite has one writer
    anyway): a sweep never waits, so it cannot deadlock with the hits it runs beside.
    """
    cutoff = now - dt.timedelta(seconds=MAX_WINDOW_SECONDS)
    dead = (
        select(RateCounter.key, RateCounter.window_start)
        .where(RateCounter.window_start < cutoff)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        delete(RateCounter)
        .where(tuple_(RateCounter.key, RateCounter.window_start).in_(dead))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def current(session: Session, key: str, *, window_seconds: int, now: dt.datetime) -> RateDecision:
    """The count so far in this window, without adding a hit (allowed is always True)."""
    start, retry_after = _window(now, window_seconds)
    count = session.scalar(
        select(RateCounter.count).where(RateCounter.key == key, RateCounter.window_start == start)
    )
    return RateDecision(True, int(count or 0), retry_after)
