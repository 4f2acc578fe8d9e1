"""The unanswered-question inbox's rows, on SQLite and PostgreSQL: which turns are candidates,
the date range, and what marking a group reviewed records (and audits)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parents[1] / "workbench"))  # workbench_support

from workbench_support import add_turn

from services.errors import InvalidInput
from services.facade import Services
from services.feedback import RatingRequest
from services.models import AnalyticsTurn, AuditRecord, ReviewOutcome, TurnKind

DAY = dt.datetime(2026, 11, 20, 10, 0)


def _candidates(svc: Services, **filters: object) -> dict[str, str]:
    turns = svc.inbox_candidates(low_confidence=0.6, low_rating=2, limit=100, **filters)  # type: ignore[arg-type]
    return {turn.turn_id: turn.reason for turn in turns}


def _rate(svc: Services, turn_id: str, score: int) -> None:
    svc.rate(RatingRequest(sender_id=f"web:{turn_id}", turn_id=turn_id, score=score, guide_id=None))


def test_fallbacks_unsure_answers_and_low_ratings_are_candidates_and_nothing_else(svc: Services) -> None:
    add_turn(svc, "fb", "社保卡丢了咋个整", kind=TurnKind.fallback)
    add_turn(svc, "unsure", "老人补贴", kind=TurnKind.answered, confidence=0.41)
    add_turn(svc, "unsure-clarified", "那个证", kind=TurnKind.clarified, confidence=0.3)
    add_turn(svc, "sure", "低保要带哪些材料", kind=TurnKind.answered, confidence=0.97)
    add_turn(svc, "rated-low", "公积金咋个取", kind=TurnKind.answered, confidence=0.95)
    add_turn(svc, "rated-high", "结婚登记在哪办", kind=TurnKind.answered, confidence=0.95)
    add_turn(svc, "refused", "哪家火锅好吃", kind=TurnKind.out_of_scope, confidence=0.3)
    add_turn(svc, "form", "13985001234", kind=TurnKind.form_step, confidence=0.2)
    _rate(svc, "rated-low", 1)
    _rate(svc, "rated-high", 5)

    assert _candidates(svc) == {
        "fb": "fallback",
        "unsure": "low_confidence",
        "unsure-clarified": "low_confidence",
        "rated-low": "low_rating",
    }
    rated = next(
        turn for turn in svc.inbox_candidates(low_confidence=0.6, low_rating=2, limit=10) if turn.rating
    )
    assert (rated.turn_id, rated.rating) == ("rated-low", 1)


def test_the_date_range_includes_its_start_and_excludes_its_end(svc: Services) -> None:
    for day in (19, 20, 21):
        add_turn(svc, f"d{day}", f"问题{day}", at=dt.datetime(2026, 11, day, 23, 59))
    assert set(_candidates(svc, since=dt.datetime(2026, 11, 20), until=dt.datetime(2026, 11, 21))) == {"d20"}
    assert set(_candidates(svc, since=dt.datetime(2026, 11, 20))) == {"d20", "d21"}


def test_a_reviewed_group_leaves_the_inbox_with_who_what_and_when_recorded(svc: Services, clock) -> None:
    add_turn(svc, "a", "老人补贴咋个领", at=DAY)
    add_turn(svc, "b", "老人补贴怎么领", at=DAY)
    add_turn(svc, "c", "社保卡丢了", at=DAY)

    assert (
        svc.review_inbox(["a", "b"], ReviewOutcome.alias, detail="gaoling_butie: 老人补贴", actor="zy4001")
        == 2
    )
    assert set(_candidates(svc)) == {"c"}
    with svc.unit() as (session, _ctx):
        row = session.scalars(select(AnalyticsTurn).where(AnalyticsTurn.turn_id == "a")).one()
        assert (row.review, row.review_detail, row.reviewed_by, row.reviewed_at) == (
            ReviewOutcome.alias,
            "gaoling_butie: 老人补贴",
            "zy4001",
            clock.now,
        )
        audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "inbox.review")).one()
    assert (audit.actor, audit.result, audit.target) == ("zy4001", "alias", "gaoling_butie: 老人补贴")
    assert audit.detail["turns"] == 2

    # A second click on the same group changes nothing: the first decision stands.
    assert svc.review_inbox(["a", "b"], ReviewOutcome.dismissed, detail=None, actor="zy4002") == 0
    with svc.unit() as (session, _ctx):
        assert (
            session.scalars(select(AnalyticsTurn.reviewed_by).where(AnalyticsTurn.turn_id == "b")).one()
            == "zy4001"
        )


def test_an_empty_group_is_refused(svc: Services) -> None:
    with pytest.raises(InvalidInput, match="请选择"):
        svc.review_inbox([], ReviewOutcome.dismissed, detail=None, actor="zy4001")
