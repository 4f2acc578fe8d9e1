"""Realistic demo data for ``make run``: applications in every status, some bookings and feedback.

Deterministic for a given seed and day, idempotent (does nothing when the demo data is there),
and written through the same domain functions as real traffic, so it obeys every rule. Never in
production: invented residents would sit among real ones and answer real lookups.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services import applications, appointments, feedback, handoff_desk
from services.applications import ApplicationRequest
from services.appointments import BookingRequest
from services.catalog import Catalog, CatalogService, sync_catalog
from services.context import Context
from services.errors import DomainError
from services.facade import Services
from services.feedback import ComplaintRequest, RatingRequest
from services.handoff_desk import HandoffRequest, TranscriptMessage
from services.identity import id_check_char
from services.models import Application, AppStatus, ComplaintKind
from services.workdays import is_working_day

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林郑梁谢宋唐许韩冯邓曹彭曾田袁蒋蔡余杜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红春梅海燕德文斌宇浩然思雨欣怡子涵"
# 遵义市 county-level codes (GB/T 2260), so demo ID numbers look local and pass validation.
ZUNYI_REGIONS = (
    "520302",
    "520303",
    "520304",
    "520322",
    "520323",
    "520324",
    "520325",
    "520326",
    "520327",
    "520328",
    "520329",
    "520330",
    "520381",
    "520382",
)
MOBILE_PREFIXES = (
    "130",
    "131",
    "133",
    "135",
    "138",
    "139",
    "150",
    "151",
    "153",
    "155",
    "158",
    "177",
    "182",
    "186",
    "187",
    "188",
    "189",
    "199",
)

# The path through the plan that ends in each status.
PATHS: dict[AppStatus, tuple[AppStatus, ...]] = {
    AppStatus.submitted: (),
    AppStatus.accepted: (AppStatus.accepted,),
    AppStatus.reviewing: (AppStatus.accepted, AppStatus.reviewing),
    AppStatus.decided: (AppStatus.accepted, AppStatus.reviewing, AppStatus.decided),
    AppStatus.completed: (AppStatus.accepted, AppStatus.reviewing, AppStatus.decided, AppStatus.completed),
    AppStatus.needs_correction: (AppStatus.needs_correction,),
    AppStatus.rejected: (AppStatus.rejected,),
    AppStatus.withdrawn: (AppStatus.accepted, AppStatus.withdrawn),
}
WEIGHTS = {
    AppStatus.completed: 30,
    AppStatus.decided: 8,
    AppStatus.reviewing: 14,
    AppStatus.accepted: 12,
    AppStatus.submitted: 10,
    AppStatus.needs_correction: 12,
    AppStatus.rejected: 7,
    AppStatus.withdrawn: 7,
}
HANDLERS = {
    AppStatus.reviewing: "业务科室审核岗",
    AppStatus.decided: "分管负责人审批",
    AppStatus.completed: "窗口送达（现场领取或邮寄）",
    AppStatus.rejected: "综合受理窗口",
    AppStatus.withdrawn: "综合受理窗口",
}
REJECT_REASONS = ("申请事项不属于本机关职权范围，请向户籍所在地主管部门申请。", "申请人不符合申请条件。")


class SeedRefused(RuntimeError):
    """Demo data was asked for where real residents' records live."""


@dataclass
class SeedReport:
    applications: int = 0
    appointments: int = 0
    skipped: bool = False
    samples: dict[AppStatus, tuple[str, str, str]] = field(default_factory=dict)  # number, ID tail, phone


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    phone: str


def fake_person(rng: random.Random, today: dt.date) -> Person:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    birth = dt.date(1950, 1, 1) + dt.timedelta(
        days=rng.randrange((dt.date(2006, 1, 1) - dt.date(1950, 1, 1)).days)
    )
    first17 = f"{rng.choice(ZUNYI_REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    assert birth < today
    phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    return Person(name, first17 + id_check_char(first17), phone)


def _office_time(rng: random.Random, day: dt.date) -> dt.datetime:
    minutes = rng.choice((rng.randrange(9 * 60, 12 * 60), rng.randrange(13 * 60 + 30, 17 * 60)))
    return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))


def _working_days_back(day: dt.date, count: int) -> dt.date:
    while count > 0:
        day -= dt.timedelta(days=1)
        count -= is_working_day(day)
    return day


def _step_times(rng: random.Random, now: dt.datetime, steps: int) -> list[dt.datetime]:
    """``steps + 1`` increasing office-hour times, the first 1–40 working days ago, none after ``now``."""
    start = _working_days_back(now.date(), rng.randint(steps * 3 + 1, 40))
    times, day = [_office_time(rng, start)], start
    for _ in range(steps):
        for _ in range(rng.randint(0, 2)):
            day += dt.timedelta(days=1)
            while not is_working_day(day):
                day += dt.timedelta(days=1)
        candidate = max(_office_time(rng, day), times[-1] + dt.timedelta(minutes=rng.randint(20, 90)))
        times.append(min(candidate, now - dt.timedelta(minutes=5)))
    return times


def seed(
    services: Services, data: Catalog, *, count: int, environment: str, rng_seed: int = 2026
) -> SeedReport:
    """Sync the catalog and add ``count`` demo applications (every status) unless already there;
    refused in the production ``environment`` (settings.environment)."""
    if environment == "production":
        raise SeedRefused(
            "生产环境（ZY_ENVIRONMENT=production）不能写入演示数据：虚构的办件、预约和群众信息会混入真实记录。"
            "生产环境请只运行 python -m services migrate 和 catalog。"
        )
    report = SeedReport()
    usable = [service for service in data.services if service.windows]
    with services.unit() as (session, ctx):
        sync_catalog(session, data, services.settings, ctx.now)
        if not usable or (session.scalar(select(func.count()).select_from(Application)) or 0) >= count:
            report.skipped = True
            return report
        rng = random.Random(rng_seed)
        targets = list(PATHS) + rng.choices(
            list(WEIGHTS), weights=list(WEIGHTS.values()), k=max(0, count - len(PATHS))
        )
        for index, target in enumerate(targets[:count]):
            service = usable[index % len(usable)]
            person = fake_person(rng, ctx.today)
            number = _seed_application(session, ctx, rng, service, person, target)
            report.applications += 1
            report.samples.setdefault(target, (number, person.id_number[-6:], person.phone))
        report.appointments = _seed_bookings(session, ctx, rng, usable)
        _seed_feedback(session, ctx, rng, usable)
    return report


def _seed_application(
    session: Session,
    ctx: Context,
    rng: random.Random,
    service: CatalogService,
    person: Person,
    target: AppStatus,
) -> str:
    path = PATHS[target]
    # A third of the applications that got accepted needed a 补正 first, as in real halls.
    if path and path[0] is AppStatus.accepted and rng.random() < 0.33:
        path = (AppStatus.needs_correction, *path)
    times = _step_times(rng, ctx.now, len(path))
    hall_id, window = rng.choice(service.windows)
    channel = rng.choice(("window", "window", "web", "wechat"))
    created = applications.submit(
        session,
        ctx,
        ApplicationRequest(
            service_id=service.id,
            applicant_name=person.name,
            id_number=person.id_number,
            phone=person.phone,
            channel=channel,
            hall_id=hall_id,
        ),
        handler="窗口申请" if channel == "window" else "网上申请（贵州政务服务网）",
        at=times[0],
    )
    for status, at in zip(path, times[1:], strict=True):
        missing = None
        if status is AppStatus.needs_correction:
            pool = list(service.materials) or ["申请表"]
            missing = rng.sample(pool, k=min(len(pool), rng.randint(1, 2)))
        applications.advance(
            session,
            ctx,
            created.number,
            status,
            handler=HANDLERS.get(status, window),
            missing_materials=missing,
            reason=rng.choice(REJECT_REASONS)
            if status is AppStatus.rejected
            else ("申请人主动撤回申请。" if status is AppStatus.withdrawn else None),
            note="请按清单补齐材料后到窗口或网上补正。" if missing else None,
            at=at,
        )
    return created.number


def _seed_bookings(session: Session, ctx: Context, rng: random.Random, usable: list[CatalogService]) -> int:
    booked = 0
    for offset in range(1, ctx.settings.booking_horizon_days + 1):
        day = ctx.today + dt.timedelta(days=offset)
        for _ in range(4):
            service = rng.choice(usable)
            hall_id, _window = rng.choice(service.windows)
            person = fake_person(rng, ctx.today)
            try:
                starts = appointments.slot_starts(ctx.settings, day)
                appointments.book(
                    session,
                    ctx,
                    BookingRequest(
                        hall_id=hall_id,
                        service_id=service.id,
                        start=rng.choice(starts),
                        name=person.name,
                        id_number=person.id_number,
                        phone=person.phone,
                        sender_id="seed:demo",
                        channel="web",
                    ),
                )
            except DomainError:
                continue  # closed day, unpublished calendar or full slot: real residents get refused too
            booked += 1
    return booked


def _seed_feedback(session: Session, ctx: Context, rng: random.Random, usable: list[CatalogService]) -> None:
    for index in range(30):
        service = rng.choice(usable)
        feedback.rate(
            session,
            ctx,
            RatingRequest(
                sender_id=f"web:demo{index % 7}",
                turn_id=f"seed-{index}",
                guide_id=service.id,
                score=rng.choice((5, 5, 5, 4, 4, 3, 2, 1)),
                comment=rng.choice((None, "回答清楚，材料清单很有用", "希望能直接网上办")),
            ),
        )
    feedback.open_complaint(
        session,
        ctx,
        ComplaintRequest(
            sender_id="web:demo1",
            kind=ComplaintKind.correction,
            guide_id=usable[0].id,
            content="指南里的咨询电话打不通，请核实更新。",
        ),
    )
    feedback.open_complaint(
        session,
        ctx,
        ComplaintRequest(
            sender_id="wechat:demo2",
            kind=ComplaintKind.complaint,
            content="窗口排队时间太长，建议增加预约号源。",
        ),
    )
    handoff_desk.open_handoff(
        session,
        ctx,
        HandoffRequest(
            sender_id="web:demo3",
            channel="web",
            reason="用户要求人工",
            transcript=[
                TranscriptMessage(role="user", text="我的公积金提取一直没到账"),
                TranscriptMessage(role="bot", text="可以提供办件编号和身份证号后6位帮您查询进度。"),
                TranscriptMessage(role="user", text="转人工"),
            ],
        ),
    )
