"""A month of synthetic analytics turns for the dashboard (``python -m services seed --turns``).

Deterministic for a given seed and day, idempotent (nothing is written when seeded turns are
there) and never in production. The month is plausible rather than random: more questions on
weekdays and in office hours, web and WeChat, a few services asked far more than the rest, about
one question in ten not answered (a handful of wordings that recur, as real unanswered questions
do), ratings of answers, handoffs claimed after a few minutes (all closed, so none waits at the
desk), districts where the words named one, and booking requests for the service offered at the
fewest halls that fill its seats on Mondays (weekend requests wait for the next open day), so the
forecast has something to warn about.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from services.appointments import slot_starts
from services.catalog import Catalog, CatalogService, sync_catalog
from services.context import Context
from services.facade import Services
from services.models import AnalyticsTurn, Handoff, HandoffStatus, Rating, TurnKind

TURN_PREFIX = "seed-turn-"
DAYS = 30
WEEKDAY_TURNS = 500
WEEKEND_SHARE = 0.4
CHANNELS = (("wechat", 0.55), ("web", 0.45))
# Relative volume per hour of the day: office hours, a lunch dip and an evening bump.
HOURS = (0, 0, 0, 0, 0, 0, 1, 3, 8, 14, 15, 12, 6, 7, 12, 13, 11, 8, 5, 5, 6, 5, 3, 1)
ASK = (
    ("ask_materials", "materials", "{}需要带哪些材料"),
    ("ask_process", "process", "{}怎么办理"),
    ("ask_location", "location", "{}在哪里办"),
    ("ask_time_limit", "time_limit", "{}多久能办好"),
    ("ask_fee", "fee", "{}要收费吗"),
    ("ask_eligibility", "eligibility", "什么条件可以办{}"),
)
# Unanswered questions come back in a few wordings each; near-duplicates are one group.
UNANSWERED = (
    (("低保咋个申请", "低保怎么申请啊", "低保怎么申请"), 9),
    (("公积金贷款额度怎么算", "公积金能贷多少钱", "公积金贷款能贷好多"), 7),
    (("新农合今年交好多钱", "新农合今年交多少钱", "今年新农合缴费标准"), 6),
    (("港澳通行证在哪里办", "遵义哪里可以办港澳通行证"), 5),
    (("电动车上牌在哪里上", "电动自行车上牌去哪里"), 4),
    (("退休金什么时候涨", "养老金啥时候调整"), 3),
    (("健康证在哪里办", "办健康证要多久"), 2),
)
OUT_OF_SCOPE = ("今天天气怎么样", "推荐个好吃的馆子", "讲个笑话")
OTHER = ("你好", "谢谢", "好的", "再见")
DISTRICTS = ("红花岗区", "汇川区", "播州区", "仁怀市", "赤水市", "桐梓县", "绥阳县", "湄潭县", "遵义新区")
KINDS = (
    (TurnKind.answered, 0.52),
    (TurnKind.clarified, 0.06),
    (TurnKind.fallback, 0.11),
    (TurnKind.out_of_scope, 0.03),
    (TurnKind.handoff, 0.03),
    (TurnKind.other, 0.08),
)
BOOKING_SHARE_OF_CAPACITY = 0.7  # weekday booking requests of the most booked service / its seats


class TurnSeedRefused(RuntimeError):
    """Synthetic turns were asked for where real residents' conversations are counted."""


@dataclass
class TurnSeedReport:
    turns: int = 0
    ratings: int = 0
    handoffs: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    skipped: bool = False


def seed_month(services: Services, data: Catalog, *, environment: str, days: int = DAYS) -> TurnSeedReport:
    """Sync the catalog, then seed the turns, in one transaction."""
    with services.unit() as (session, ctx):
        if environment != "production":
            sync_catalog(session, data, services.settings, ctx.now)
        return seed_turns(session, ctx, data, environment=environment, days=days)


def seed_turns(
    session: Session, ctx: Context, data: Catalog, *, environment: str, days: int = DAYS, rng_seed: int = 2026
) -> TurnSeedReport:
    """``days`` days of turns ending yesterday (the catalog must be synced first)."""
    if environment == "production":
        raise TurnSeedRefused(
            "生产环境（ZY_ENVIRONMENT=production）不能写入虚构的对话记录：会混进真实的咨询统计。"
        )
    report = TurnSeedReport()
    services = [s for s in data.services if s.windows]
    seeded = session.scalar(
        select(func.count()).select_from(AnalyticsTurn).where(AnalyticsTurn.turn_id.like(f"{TURN_PREFIX}%"))
    )
    if seeded or not services:
        report.skipped = True
        return report
    rng = random.Random(rng_seed)
    districts = {hall.id: hall.district for hall in data.halls}
    # A fixed, skewed popularity: the first services of the catalog are asked most.
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(services))]
    # The crowded service is the one offered at the fewest halls: its seats run out first.
    booked = min(services, key=lambda service: len(service.windows))
    seats = len(booked.windows) * ctx.settings.slot_capacity_by_service.get(
        booked.id, ctx.settings.slot_capacity
    )
    weekday_bookings = BOOKING_SHARE_OF_CAPACITY * seats * max(1, len(slot_starts(ctx.settings, ctx.today)))
    turns: list[dict[str, Any]] = []
    ratings: list[dict[str, Any]] = []
    handoffs: list[dict[str, Any]] = []
    first = ctx.today - dt.timedelta(days=days)
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        weekend = day.weekday() >= 5
        growth = 1 + 0.006 * offset  # demand creeps up over the month
        count = round(WEEKDAY_TURNS * growth * (WEEKEND_SHARE if weekend else 1) * rng.uniform(0.9, 1.1))
        bookings = round(
            weekday_bookings * growth * (WEEKEND_SHARE if weekend else 1) * rng.uniform(0.9, 1.1)
        )
        for n in range(count + bookings):
            turn = _turn(rng, day, n, services, weights, districts, booking=booked if n >= count else None)
            turns.append(turn)
            if turn["kind"] is TurnKind.answered and rng.random() < 0.12:
                ratings.append(_rating(rng, turn, services))
            if turn["kind"] is TurnKind.handoff:
                handoffs.append(_handoff(rng, turn, len(handoffs)))
    for chunk in range(0, len(turns), 2000):
        session.execute(insert(AnalyticsTurn), turns[chunk : chunk + 2000])
    if ratings:
        session.execute(insert(Rating), ratings)
    if handoffs:
        session.execute(insert(Handoff), handoffs)
    report.turns, report.ratings, report.handoffs = len(turns), len(ratings), len(handoffs)
    report.first_day, report.last_day = first, ctx.today - dt.timedelta(days=1)
    return report


def _pick(rng: random.Random, options: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _turn(
    rng: random.Random,
    day: dt.date,
    n: int,
    services: list[CatalogService],
    weights: list[float],
    districts: dict[str, str],
    *,
    booking: CatalogService | None,
) -> dict[str, Any]:
    hour = rng.choices(range(24), weights=HOURS)[0]
    at = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)))
    channel = _pick(rng, CHANNELS)
    row: dict[str, Any] = {
        "turn_id": f"{TURN_PREFIX}{day:%Y%m%d}-{n:04d}",
        "sender": f"{rng.getrandbits(64):016x}",
        "channel": channel,
        "at": at,
        "entities": [],
        "intent": None,
        "confidence": None,
        "guide_id": None,
        "section": None,
        "situation": None,
        "district": None,
        "latency_ms": round(rng.uniform(180, 1400), 1),
    }
    service = booking or rng.choices(services, weights=weights)[0]
    about: CatalogService | None = service  # the guide the turn is about, if any
    if booking is not None or rng.random() < 0.05:
        kind = TurnKind.form_step
        row.update(
            text=f"我想预约办理{service.name}", intent="book_appointment", confidence=rng.uniform(0.8, 0.99)
        )
    else:
        kind = _pick(rng, KINDS)
        if kind is TurnKind.answered or kind is TurnKind.clarified:
            intent, section, template = rng.choice(ASK)
            # One answer in twenty was given with little confidence: those go to the inbox too.
            confidence = rng.uniform(0.45, 0.6) if rng.random() < 1 / 20 else rng.uniform(0.7, 0.99)
            row.update(text=template.format(service.name), intent=intent, confidence=confidence)
            if kind is TurnKind.answered:
                row["section"] = section
        elif kind is TurnKind.fallback:
            wordings = rng.choices([w for w, _ in UNANSWERED], weights=[weight for _, weight in UNANSWERED])[
                0
            ]
            row.update(text=rng.choice(wordings), intent="nlu_fallback", confidence=rng.uniform(0.2, 0.5))
            about = None
        elif kind is TurnKind.out_of_scope:
            row.update(
                text=rng.choice(OUT_OF_SCOPE), intent="out_of_scope", confidence=rng.uniform(0.7, 0.95)
            )
            about = None
        elif kind is TurnKind.handoff:
            row.update(text="转人工", intent="request_human", confidence=rng.uniform(0.85, 0.99))
            about = None
        else:
            row.update(text=rng.choice(OTHER), intent="greet", confidence=rng.uniform(0.85, 0.99))
            about = None
    row["kind"] = kind
    if about is not None:
        row["guide_id"] = about.id
        row["entities"] = [{"entity": "service", "value": about.name}]
        if rng.random() < 0.6:
            row["district"] = districts.get(rng.choice(about.windows)[0]) or rng.choice(DISTRICTS)
    elif rng.random() < 0.2:
        row["district"] = rng.choice(DISTRICTS)
    if row["confidence"] is not None:
        row["confidence"] = round(row["confidence"], 3)
    return row


def _rating(rng: random.Random, turn: dict[str, Any], services: list[CatalogService]) -> dict[str, Any]:
    # Some services' guides satisfy less (every fourth one here), and WeChat a little less than web.
    index = next(i for i, s in enumerate(services) if s.id == turn["guide_id"])
    scores = (5, 4, 3, 2, 1)
    weights = (3, 3, 2, 2, 1) if index % 4 == 3 else (6, 3, 1, 0.5, 0.3)
    score = rng.choices(scores, weights=weights)[0]
    if turn["channel"] == "wechat" and score > 1 and rng.random() < 0.1:
        score -= 1
    return {
        "sender_id": f"{turn['channel']}:seed-{turn['sender']}",
        "turn_id": turn["turn_id"],
        "guide_id": turn["guide_id"],
        "score": score,
        "comment": None,
        "channel": turn["channel"],
        "created_at": turn["at"] + dt.timedelta(seconds=rng.randint(20, 300)),
    }


def _handoff(rng: random.Random, turn: dict[str, Any], n: int) -> dict[str, Any]:
    # All claimed and closed: a seeded resident must not sit in the agents' waiting queue.
    created = turn["at"]
    claimed = created + dt.timedelta(minutes=rng.uniform(0.5, 18))
    return {
        "ticket": f"RGS{created:%Y%m%d}{n:04d}",
        "sender_id": f"{turn['channel']}:seed-{turn['sender']}",
        "channel": turn["channel"],
        "reason": "用户要求人工（演示数据）",
        "status": HandoffStatus.closed,
        "agent": "seed-agent",
        "created_at": created,
        "claimed_at": claimed,
        "closed_at": claimed + dt.timedelta(minutes=rng.uniform(3, 25)),
    }
