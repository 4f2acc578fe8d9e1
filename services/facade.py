"""``Services``: the Python API the dialogue layer and the gateway call; one unit of work per call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.settings import ServicesSettings, Settings, get_settings
from services import (
    agency,
    analytics_inbox,
    analytics_queries,
    analytics_store,
    analytics_suggestions,
    applications,
    appointments,
    audit,
    catalog,
    feedback,
    handoff_desk,
    holidays,
    ics,
    personal_holds,
)
from services.agency import AgencyRequestForm, AgencyStaffView, AgencyStatusView
from services.analytics_inbox import InboxTurn
from services.analytics_queries import Figures, Period, ServiceCount, ServiceDay, UnansweredText
from services.analytics_store import LateOutcome, Recorded, TurnFact
from services.analytics_suggestions import AskedGuide
from services.applications import ApplicationRequest, ApplicationView
from services.appointments import Booking, BookingRequest, SlotView
from services.audit import AuditView
from services.catalog import Catalog, HallServiceView, HallView
from services.context import Context
from services.db import make_engine, make_sessionmaker, migrate
from services.errors import DomainError, NotConfigured, ServiceUnavailable
from services.feedback import ComplaintRequest, ComplaintView, RatingRequest, RatingView
from services.handoff_desk import HandoffRequest, HandoffView, InboxView, ReplyView, WaitingView
from services.holidays import HolidayOverrides, HolidayYear
from services.models import AgencyStatus, AppStatus, ReviewOutcome, TicketStatus
from services.personal_holds import Held
from services.workdays import local_now

Clock = Callable[[], dt.datetime]


class Services:
    """Every operation commits on success and rolls back on error, except errors that ask to keep
    their writes (a refused lookup keeps its audit row and rate-limit count)."""

    def __init__(
        self, sessions: sessionmaker[Session], settings: ServicesSettings, *, clock: Clock | None = None
    ):
        self._sessions = sessions
        self.settings = settings
        self._clock = clock or (lambda: local_now(settings.timezone))

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, upgrade: bool = True) -> Services:
        """Engine and sessions from the settings; migrates to head unless ``upgrade`` is False."""
        settings = settings or get_settings()
        config = settings.services
        placeholder = ServicesSettings.model_fields["secret_key"].default.get_secret_value()
        if settings.environment == "production" and config.secret_key.get_secret_value() == placeholder:
            raise NotConfigured("生产环境须设置 ZY_SERVICES__SECRET_KEY（用于身份证号、手机号的加密摘要）。")
        if upgrade and config.migrate_on_start:
            migrate(config.database_url)
        engine = make_engine(
            config.database_url,
            pool_size=config.pool_size,
            max_overflow=config.max_overflow,
            busy_timeout_ms=config.sqlite_busy_timeout_ms,
        )
        return cls(make_sessionmaker(engine), config)

    def ping(self) -> bool:
        """True when the database answers; for readiness checks."""
        try:
            with self._sessions() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def context(self) -> Context:
        return Context(self.settings, self._clock())

    @contextmanager
    def unit(self) -> Iterator[tuple[Session, Context]]:
        with self._sessions() as session:
            ctx = self.context()
            audit.bind_key(session, ctx)
            try:
                yield session, ctx
            except DomainError as error:
                if error.keep_writes:
                    session.commit()
                else:
                    session.rollback()
                raise
            except OperationalError as error:
                session.rollback()
                raise _unavailable() from error
            except BaseException:
                session.rollback()
                raise
            try:
                session.commit()
            except OperationalError as error:
                raise _unavailable() from error

    # 办件
    def lookup_application(self, number: str, proof: str, sender_id: str) -> ApplicationView | None:
        """The application if proof (ID last 6 or phone) matches, else None — the one neutral answer."""
        with self.unit() as (session, ctx):
            return applications.lookup(session, ctx, number, proof, sender_id)

    def submit_application(
        self, request: ApplicationRequest, *, handler: str, at: dt.datetime | None = None
    ) -> ApplicationView:
        with self.unit() as (session, ctx):
            return applications.submit(session, ctx, request, handler=handler, at=at)

    def advance_application(
        self,
        number: str,
        status: AppStatus,
        *,
        handler: str,
        note: str | None = None,
        missing_materials: list[str] | None = None,
        reason: str | None = None,
        at: dt.datetime | None = None,
    ) -> ApplicationView:
        with self.unit() as (session, ctx):
            return applications.advance(
                session,
                ctx,
                number,
                status,
                handler=handler,
                note=note,
                missing_materials=missing_materials,
                reason=reason,
                at=at,
            )

    # 大厅与预约
    def sync_catalog(self, data: Catalog) -> None:
        with self.unit() as (session, ctx):
            catalog.sync_catalog(session, data, self.settings, ctx.now)

    def halls(self) -> list[HallView]:
        with self.unit() as (session, _ctx):
            return catalog.list_halls(session)

    def hall_services(self, hall_id: str) -> list[HallServiceView]:
        with self.unit() as (session, _ctx):
            return catalog.hall_services(session, hall_id)

    def free_slots(self, hall_id: str, service_id: str, day: dt.date) -> list[SlotView]:
        with self.unit() as (session, ctx):
            return appointments.free_slots(session, ctx, hall_id, service_id, day)

    def book(self, request: BookingRequest) -> Booking:
        with self.unit() as (session, ctx):
            return appointments.book(session, ctx, request)

    def cancel(self, code: str, phone: str, *, actor: str) -> Booking:
        with self.unit() as (session, ctx):
            return appointments.cancel(session, ctx, code, phone, actor=actor)

    def reschedule(self, code: str, phone: str, new_start: dt.datetime, *, actor: str) -> Booking:
        with self.unit() as (session, ctx):
            return appointments.reschedule(session, ctx, code, phone, new_start, actor=actor)

    def booking(self, code: str) -> Booking:
        with self.unit() as (session, _ctx):
            return appointments.get_booking(session, code)

    def booking_ics(self, code: str) -> bytes:
        with self.unit() as (session, ctx):
            return ics.booking_calendar(
                appointments.get_booking(session, code), self.settings.timezone, stamp=ctx.now
            )

    # 评价、投诉、转人工
    def rate(self, request: RatingRequest) -> RatingView:
        with self.unit() as (session, ctx):
            return feedback.rate(session, ctx, request)

    def open_complaint(self, request: ComplaintRequest) -> ComplaintView:
        with self.unit() as (session, ctx):
            return feedback.open_complaint(session, ctx, request)

    def complaint_status(self, tracking_number: str) -> ComplaintView:
        with self.unit() as (session, _ctx):
            return feedback.complaint_status(session, tracking_number)

    def update_complaint(
        self, tracking_number: str, status: TicketStatus, *, actor: str, resolution: str | None = None
    ) -> ComplaintView:
        with self.unit() as (session, ctx):
            return feedback.update_complaint(
                session, ctx, tracking_number, status, actor=actor, resolution=resolution
            )

    def open_handoff(self, request: HandoffRequest) -> HandoffView:
        with self.unit() as (session, ctx):
            return handoff_desk.open_handoff(session, ctx, request)

    def waiting_handoffs(self, *, limit: int = 50) -> list[HandoffView]:
        with self.unit() as (session, ctx):
            return handoff_desk.waiting_handoffs(session, ctx, limit=limit)

    def claim_handoff(self, ticket: str, *, agent: str) -> HandoffView:
        with self.unit() as (session, ctx):
            return handoff_desk.claim(session, ctx, ticket, agent=agent)

    def close_handoff(self, ticket: str, *, agent: str) -> HandoffView:
        """Only by the agent who claimed it; a handoff nobody has claimed yet, by any agent."""
        with self.unit() as (session, ctx):
            return handoff_desk.close(session, ctx, ticket, agent=agent)

    def handoff(self, ticket: str) -> HandoffView:
        with self.unit() as (session, ctx):
            return handoff_desk.get_handoff(session, ctx, ticket)

    def agent_handoffs(self, agent: str, *, limit: int = 50) -> list[HandoffView]:
        with self.unit() as (session, ctx):
            return handoff_desk.agent_handoffs(session, ctx, agent, limit=limit)

    def reply_to_handoff(self, ticket: str, *, agent: str, text: str) -> ReplyView:
        with self.unit() as (session, ctx):
            return handoff_desk.reply(session, ctx, ticket, agent=agent, text=text)

    def relay_to_agent(self, sender_id: str, text: str) -> WaitingView | None:
        with self.unit() as (session, ctx):
            return handoff_desk.relay_to_agent(session, ctx, sender_id, text)

    def withdraw_handoff(self, sender_id: str) -> HandoffView | None:
        with self.unit() as (session, ctx):
            return handoff_desk.withdraw(session, ctx, sender_id)

    def waiting(self, sender_id: str) -> WaitingView | None:
        """The resident's open handoff with their place in the queue and the desk's hours."""
        with self.unit() as (session, ctx):
            handoff = handoff_desk.open_handoff_of(session, sender_id)
            return handoff_desk.waiting_view(session, ctx, handoff) if handoff else None

    def handoff_inbox(self, sender_id: str, *, after: int = 0) -> InboxView:
        with self.unit() as (session, ctx):
            return handoff_desk.inbox(session, ctx, sender_id, after=after)

    # 免费代办（services/agency.py）
    def open_agency_request(self, form: AgencyRequestForm, *, bundles_dir: Path) -> AgencyStatusView:
        """Open a 代办 request (audited); ``bundles_dir`` is where a named bundle is looked up."""
        with self.unit() as (session, ctx):
            return agency.open_request(session, ctx, form, bundles_dir=bundles_dir)

    def agency_districts(self) -> list[str]:
        """The 县区 an agent can be sent to (the halls' districts, the city itself left out)."""
        with self.unit() as (session, _ctx):
            return agency.districts(session)

    def check_agency_district(self, value: str) -> str:
        """The 县区's full name for what the resident said (汇川 → 汇川区); InvalidInput otherwise."""
        with self.unit() as (session, _ctx):
            return agency.check_district(session, value)

    def agency_status(self, tracking_number: str, phone: str, sender_id: str) -> AgencyStatusView | None:
        """The request if the phone matches, else None — one neutral answer; rate-limited, audited."""
        with self.unit() as (session, ctx):
            return agency.lookup(session, ctx, tracking_number, phone, sender_id)

    def agency_requests(
        self, *, status: AgencyStatus | None = None, district: str | None = None, limit: int = 100
    ) -> list[AgencyStaffView]:
        with self.unit() as (session, _ctx):
            return agency.staff_list(session, status=status, district=district, limit=limit)

    def agency_request(self, tracking_number: str) -> AgencyStaffView:
        with self.unit() as (session, _ctx):
            return agency.staff_get(session, tracking_number)

    def reveal_agency_phone(self, tracking_number: str, *, actor: str) -> str:
        """The whole phone of an open 代办 request, for the call back (audited)."""
        with self.unit() as (session, ctx):
            return agency.reveal_phone(session, ctx, tracking_number, actor=actor)

    def change_agency_status(
        self,
        tracking_number: str,
        status: AgencyStatus,
        *,
        actor: str,
        agent: str | None = None,
        note: str | None = None,
    ) -> AgencyStaffView:
        with self.unit() as (session, ctx):
            return agency.change_status(
                session, ctx, tracking_number, status, actor=actor, agent=agent, note=note
            )

    # 对话中的身份证号、手机号（services/personal_holds.py）
    def hold_personal(self, conversation_id: str, kind: str, value: str) -> Held:
        """Hold a validated ``id_number`` or ``phone`` for the running form; its slot keeps the mask."""
        with self.unit() as (session, ctx):
            return personal_holds.hold(session, ctx, conversation_id, kind, value)

    def reveal_personal(self, conversation_id: str, reference: str) -> str | None:
        """The held value, for the conversation that held it and until it expires; else None."""
        with self.unit() as (session, ctx):
            return personal_holds.reveal(session, ctx, conversation_id, reference)

    def release_personal(self, conversation_id: str) -> int:
        """Forget every value held for the conversation (its form submitted or stopped)."""
        with self.unit() as (session, ctx):
            return personal_holds.release(session, ctx, conversation_id)

    def purge_expired_holds(self) -> int:
        """Delete the holds past their expiry (``python -m services purge``); how many went."""
        with self.unit() as (session, ctx):
            return personal_holds.purge_expired(session, ctx)

    # 工作台：节假日（services/holidays.py）与猜你想问（services/analytics_suggestions.py）
    def save_holiday_year(
        self, calendar: HolidayOverrides, year: int, data: dict[str, Any], *, actor: str
    ) -> HolidayYear:
        """Validate and write ``<year>.yaml`` atomically, audited under ``actor``."""
        with self.unit() as (session, ctx):
            return holidays.save_year(session, ctx, calendar, year, data, actor=actor)

    def most_asked_guides(self, *, since: dt.datetime, limit: int) -> list[AskedGuide]:
        with self.unit() as (session, _ctx):
            return analytics_suggestions.most_asked_guides(session, since=since, limit=limit)

    # 工作台：未答问题收件箱（services/analytics_inbox.py）
    def inbox_candidates(
        self,
        *,
        low_confidence: float,
        low_rating: int,
        limit: int,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        turn_ids: list[str] | None = None,
    ) -> list[InboxTurn]:
        """Unreviewed fallbacks, low-confidence answers and low-rated answers, newest first."""
        with self.unit() as (session, _ctx):
            return analytics_inbox.candidates(
                session,
                since=since,
                until=until,
                low_confidence=low_confidence,
                low_rating=low_rating,
                limit=limit,
                turn_ids=turn_ids,
            )

    def review_inbox(
        self, turn_ids: list[str], outcome: ReviewOutcome, *, detail: str | None, actor: str
    ) -> int:
        """Mark a group reviewed (audited under ``actor``); how many turns were still unreviewed."""
        with self.unit() as (session, ctx):
            return analytics_inbox.review(session, ctx, turn_ids, outcome, detail=detail, actor=actor)

    def record_knowledge_publish(self, *, actor: str, result: str, detail: dict[str, Any]) -> None:
        with self.unit() as (session, ctx):
            analytics_inbox.record_publish(session, ctx, actor=actor, result=result, detail=detail)

    # 工作台：看板数字（services/analytics_queries.py，只读）
    def analytics_figures(self, period: Period, *, top: int, low_rating: int) -> Figures:
        with self.unit() as (session, _ctx):
            return analytics_queries.figures(session, period, top=top, low_rating=low_rating)

    def unanswered_texts(self, period: Period, *, low_confidence: float, limit: int) -> list[UnansweredText]:
        with self.unit() as (session, _ctx):
            return analytics_queries.unanswered_texts(
                session, period, low_confidence=low_confidence, limit=limit
            )

    def booking_demand(self, period: Period, *, top: int) -> tuple[list[ServiceCount], list[ServiceDay]]:
        """The ``top`` services by booking requests in the period and their requests per day."""
        with self.unit() as (session, _ctx):
            services = analytics_queries.top_booking_services(session, period, limit=top)
            days = analytics_queries.booking_days(session, period, [s.guide_id for s in services])
            return services, days

    def booking_capacity(self, guide_ids: list[str], days: list[dt.date]) -> dict[str, dict[dt.date, int]]:
        """Bookable seats per service and day over the halls still offering it."""
        with self.unit() as (session, ctx):
            return analytics_queries.daily_capacity(session, ctx.settings, guide_ids, days)

    def first_analytics_day(self) -> dt.date | None:
        with self.unit() as (session, _ctx):
            return analytics_queries.first_turn_day(session)

    # 审计
    def audit_log(
        self, *, reader: str, limit: int = 100, action: str | None = None, target: str | None = None
    ) -> list[AuditView]:
        """The newest records; the read is itself audited under ``reader`` (the signed-in account)."""
        with self.unit() as (session, ctx):
            return audit.read(session, ctx, reader=reader, limit=limit, action=action, target=target)

    # 工作台：对话轮次入库（services/analytics_store.py，由 python -m workbench ingest 调用）
    def record_turns(
        self,
        turns: Sequence[TurnFact],
        late: Sequence[LateOutcome] = (),
        *,
        cursor: tuple[str, int] | None = None,
    ) -> Recorded:
        """Upsert ``turns`` by turn id and merge late replies; ``cursor`` (source, position) is
        moved in the same transaction, so a crash never keeps rows without their position."""
        with self.unit() as (session, ctx):
            recorded = analytics_store.record_turns(session, turns, late)
            if cursor is not None:
                analytics_store.move_cursor(session, *cursor, now=ctx.now)
            return recorded

    def ingest_cursor(self, source: str) -> int:
        with self.unit() as (session, _ctx):
            return analytics_store.cursor_position(session, source)


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("办件与预约服务暂时连不上，请稍后再试；急事请拨打政务服务热线 12345。")
