"""The database's rate counters stay bounded: a key never hit again does not keep its row."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from svc_support import NOW

from services import ratelimit
from services.models import RateCounter


def keys(session: Session) -> set[str]:
    return set(session.scalars(select(RateCounter.key)))


def test_a_sweep_drops_every_window_that_is_over_and_keeps_the_live_ones(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        for n in range(50):
            ratelimit.hit(session, f"lookup:sender:web:{n}", limit=5, window_seconds=600, now=NOW)
        ratelimit.hit(session, "booking:phone:x", limit=5, window_seconds=86_400, now=NOW)
        later = NOW + dt.timedelta(hours=13)  # 23:00, the same calendar day
        ratelimit.hit(session, "lookup:sender:web:late", limit=5, window_seconds=600, now=later)
        # The day's window is still open, and its count goes on.
        ratelimit.sweep(session, later)
        assert keys(session) == {f"lookup:sender:web:{n}" for n in range(50)} | {
            "booking:phone:x",
            "lookup:sender:web:late",
        }
        assert ratelimit.current(session, "booking:phone:x", window_seconds=86_400, now=later).count == 1
        removed = ratelimit.sweep(session, NOW + dt.timedelta(days=1, minutes=1))
        assert removed == 51
        assert keys(session) == {"lookup:sender:web:late"}


def test_hits_sweep_now_and_then_on_their_own(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "_schedule", ratelimit._SweepSchedule())
    with sessions() as session:
        for n in range(20):
            ratelimit.hit(session, f"old:{n}", limit=5, window_seconds=600, now=NOW)
        monkeypatch.setattr(ratelimit, "_schedule", ratelimit._SweepSchedule())  # the next sweep is due
        ratelimit.hit(session, "new", limit=5, window_seconds=600, now=NOW + dt.timedelta(days=2))
        assert keys(session) == {"new"}


def test_windows_longer_than_a_day_are_refused() -> None:
    with pytest.raises(ValueError, match="window_seconds"):
        ratelimit._window(NOW, 2 * 86_400)
