"""The dashboard's figures on constructed turns (exact numbers) and on the seeded month (the figures
agree with the rows), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import insert, select
from svc_support import NOW, sample_catalog

from services.analytics_queries import Period
from services.facade import Services
from services.models import AnalyticsTurn, Handoff, HandoffStatus, Rating, TurnKind
from services.seed_turns import TurnSeedRefused, seed_turns

MON, TUE = dt.date(2026, 11, 23), dt.date(2026, 11, 24)


def _turn(n: int, at: dt.datetime, kind: TurnKind, **fields: Any) -> dict[str, Any]:
    row = {
        "turn_id": f"t{n}",
        "sender": f"s{n % 3}",
        "channel": "web",
        "at": at,
        "text": f"问题{n}",
        "entities": [],
        "kind": kind,
    }
    row.update(fields)
    return row


@pytest.fixture
def constructed(svc: Services) -> Services:
    """Two days: Monday 4 turns (3 web, 1 wechat), Tuesday 2 turns; ratings on three answers;
    two handoffs claimed after 4 and 10 minutes, one never claimed."""
    at = dt.datetime.combine
    turns = [
        _turn(
            1,
            at(MON, dt.time(9, 5)),
            TurnKind.answered,
            guide_id="gongjijin_tiqu",
            confidence=0.9,
            district="红花岗区",
            intent="ask_materials",
        ),
        _turn(
            2,
            at(MON, dt.time(9, 40)),
            TurnKind.answered,
            guide_id="gongjijin_tiqu",
            confidence=0.5,
            district="红花岗区",
            intent="ask_fee",
            text="公积金交多少",
        ),
        _turn(3, at(MON, dt.time(14, 0)), TurnKind.fallback, text="低保咋个申请", channel="wechat"),
        _turn(4, at(MON, dt.time(23, 59)), TurnKind.handoff),
        _turn(5, at(TUE, dt.time(10, 0)), TurnKind.fallback, text="低保咋个申请"),
        _turn(
            6,
            at(TUE, dt.time(10, 30)),
            TurnKind.form_step,
            guide_id="getigongshanghu_sheli",
            intent="book_appointment",
            district="汇川区",
            channel="wechat",
        ),
        # Outside the period (the day after): never counted.
        _turn(7, at(TUE + dt.timedelta(days=1), dt.time(0, 0)), TurnKind.fallback),
    ]
    ratings = [
        {"sender_id": "web:a", "turn_id": "t1", "guide_id": None, "score": 5, "channel": "web"},
        {"sender_id": "web:b", "turn_id": "t2", "guide_id": None, "score": 2, "channel": "web"},
        {"sender_id": "wechat:c", "turn_id": "t6", "guide_id": None, "score": 4, "channel": "wechat"},
        {"sender_id": "web:d", "turn_id": "no-such-turn", "guide_id": None, "score": 1, "channel": "web"},
    ]
    handoffs = [
        (dt.time(9, 0), dt.time(9, 4), "web"),
        (dt.time(11, 0), dt.time(11, 10), "web"),
        (dt.time(15, 0), None, "wechat"),
    ]
    with svc.unit() as (session, _ctx):
        session.execute(insert(AnalyticsTurn), turns)
        session.execute(insert(Rating), [{**r, "created_at": at(MON, dt.time(12))} for r in ratings])
        session.execute(
            insert(Handoff),
            [
                {
                    "ticket": f"RGT{i}",
                    "sender_id": f"web:h{i}",
                    "channel": channel,
                    "status": HandoffStatus.claimed if claimed else HandoffStatus.waiting,
                    "created_at": at(MON, created),
                    "claimed_at": at(MON, claimed) if claimed else None,
                }
                for i, (created, claimed, channel) in enumerate(handoffs)
            ],
        )
    return svc


def test_volume_by_day_hour_and_channel(constructed: Services) -> None:
    figures = constructed.analytics_figures(Period(MON, TUE), top=5, low_rating=2)
    assert [(d.day, d.turns, d.answered, d.fallback, d.handoff) for d in figures.daily] == [
        (MON, 4, 2, 1, 1),
        (TUE, 2, 0, 1, 0),
    ]
    hours = {c.key: c.turns for c in figures.hourly}
    assert len(hours) == 24 and hours["09"] == 2 and hours["10"] == 2 and hours["23"] == 1
    assert sum(hours.values()) == 6
    assert [(c.key, c.turns) for c in figures.channels] == [("web", 4), ("wechat", 2)]
    kinds = {c.key: c.turns for c in figures.outcomes}
    assert kinds == {
        "answered": 2,
        "clarified": 0,
        "fallback": 2,
        "out_of_scope": 0,
        "form_step": 1,
        "handoff": 1,
        "other": 0,
    }
    assert [(c.key, c.turns) for c in figures.districts] == [("红花岗区", 2), ("汇川区", 1)]


def test_channel_filter_and_empty_days(constructed: Services) -> None:
    figures = constructed.analytics_figures(
        Period(MON - dt.timedelta(days=1), TUE, "wechat"), top=5, low_rating=2
    )
    assert [(d.turns, d.fallback) for d in figures.daily] == [(0, 0), (1, 1), (1, 0)]
    assert [(c.key, c.turns) for c in figures.channels] == [("wechat", 2)]
    assert figures.handoffs.opened == 1 and figures.handoffs.claimed == 0


def test_top_services_and_trend(constructed: Services) -> None:
    figures = constructed.analytics_figures(Period(MON, TUE), top=5, low_rating=2)
    assert [(s.guide_id, s.name, s.turns) for s in figures.services] == [
        ("gongjijin_tiqu", "住房公积金提取", 2),
        ("getigongshanghu_sheli", "个体工商户设立登记", 1),
    ]
    trend = {(t.guide_id, t.day): t.turns for t in figures.service_trend}
    assert trend[("gongjijin_tiqu", MON)] == 2 and trend[("gongjijin_tiqu", TUE)] == 0
    assert trend[("getigongshanghu_sheli", TUE)] == 1


def test_satisfaction_joins_ratings_to_their_turns(constructed: Services) -> None:
    figures = constructed.analytics_figures(Period(MON, TUE), top=5, low_rating=2)
    by_guide = {(s.key, s.ratings, s.average, s.low) for s in figures.satisfaction_guides}
    assert by_guide == {("gongjijin_tiqu", 2, 3.5, 1), ("getigongshanghu_sheli", 1, 4.0, 0)}
    by_channel = {(s.key, s.ratings, s.average, s.low) for s in figures.satisfaction_channels}
    # The rating of a turn that was never recorded is not counted anywhere.
    assert by_channel == {("web", 2, 3.5, 1), ("wechat", 1, 4.0, 0)}


def test_handoff_rate_and_time_to_claim(constructed: Services) -> None:
    handoffs = constructed.analytics_figures(Period(MON, TUE), top=5, low_rating=2).handoffs
    assert (handoffs.turns, handoffs.handoff_turns) == (6, 1)
    assert handoffs.rate == pytest.approx(1 / 6)
    assert (handoffs.opened, handoffs.claimed) == (3, 2)
    assert handoffs.mean_claim_minutes == 7.0 and handoffs.median_claim_minutes == 7.0


def test_unanswered_are_fallbacks_and_low_confidence_answers(constructed: Services) -> None:
    texts = constructed.unanswered_texts(Period(MON, TUE), low_confidence=0.6, limit=10)
    assert [(t.text, t.count) for t in texts] == [("低保咋个申请", 2), ("公积金交多少", 1)]


def test_booking_demand_and_capacity(constructed: Services) -> None:
    top, days = constructed.booking_demand(Period(MON, TUE), top=3)
    assert [(s.guide_id, s.turns) for s in top] == [("getigongshanghu_sheli", 1)]
    assert [(d.day, d.turns) for d in days] == [(MON, 0), (TUE, 1)]
    saturday, monday = dt.date(2026, 11, 28), dt.date(2026, 11, 30)
    seats = constructed.booking_capacity(["gongjijin_tiqu", "getigongshanghu_sheli"], [saturday, monday])
    slots = 13  # 9:00–12:00 and 13:30–17:00 in 30-minute slots
    # slot_capacity 3 (svc_support); 公积金 at two halls, 个体工商户 at one.
    assert seats == {
        "gongjijin_tiqu": {saturday: 0, monday: 2 * 3 * slots},
        "getigongshanghu_sheli": {saturday: 0, monday: 3 * slots},
    }


def test_seeded_month_is_plausible_and_figures_agree(svc: Services) -> None:
    with svc.unit() as (session, ctx):
        report = seed_turns(session, ctx, sample_catalog(), environment="development")
        again = seed_turns(session, ctx, sample_catalog(), environment="development")
    assert again.skipped
    assert report.first_day == NOW.date() - dt.timedelta(days=30)
    assert report.last_day == NOW.date() - dt.timedelta(days=1)
    period = Period(report.first_day, report.last_day)
    with svc.unit() as (session, _ctx):
        rows = session.execute(select(AnalyticsTurn.at, AnalyticsTurn.channel, AnalyticsTurn.kind)).all()
    assert len(rows) == report.turns
    figures = svc.analytics_figures(period, top=10, low_rating=2)

    per_day = Counter(at.date() for at, _, _ in rows)
    assert {d.day: d.turns for d in figures.daily} == {day: per_day[day] for day in period.days}
    assert {c.key: c.turns for c in figures.channels} == dict(Counter(channel for _, channel, _ in rows))
    kinds = Counter(kind.value for _, _, kind in rows)
    assert {c.key: c.turns for c in figures.outcomes if c.turns} == dict(kinds)

    # Plausible: weekdays busier than weekends, office hours than night, about one in nine unanswered.
    weekday = [d.turns for d in figures.daily if d.day.weekday() < 5]
    weekend = [d.turns for d in figures.daily if d.day.weekday() >= 5]
    assert min(weekday) > max(weekend)
    hours = {c.key: c.turns for c in figures.hourly}
    assert hours["10"] > 10 * hours["03"]
    assert 0.06 < kinds["fallback"] / report.turns < 0.15
    assert figures.handoffs.handoff_turns == report.handoffs == figures.handoffs.claimed
    assert sum(s.ratings for s in figures.satisfaction_channels) == report.ratings
    assert figures.districts and figures.services[0].turns > 2 * figures.services[-1].turns


def test_seed_refused_in_production(svc: Services) -> None:
    with pytest.raises(TurnSeedRefused, match="生产环境"), svc.unit() as (session, ctx):
        seed_turns(session, ctx, sample_catalog(), environment="production")
