"""ORM tables of the service backend; internal to ``services`` (callers use the facade).

Every time is naive wall-clock time in the halls' zone (settings.services.timezone): one city,
one zone, and SQLite has no zone-aware type, so both backends store the same thing.
Personal identifiers are never stored in clear: a keyed hash for matching and the masked form
for display (see services/identity.py).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
    true,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(enum: type[Enum], name: str) -> SqlEnum:
    # Portable: a VARCHAR with a CHECK on both backends, storing the enum's value.
    return SqlEnum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [member.value for member in members],
    )


class AppStatus(str, Enum):
    """办件 status; the main line is submitted → accepted → reviewing → decided → completed."""

    submitted = "submitted"
    accepted = "accepted"
    reviewing = "reviewing"
    decided = "decided"
    completed = "completed"
    needs_correction = "needs_correction"
    rejected = "rejected"
    withdrawn = "withdrawn"


class AppointmentStatus(str, Enum):
    booked = "booked"
    cancelled = "cancelled"
    expired = "expired"


class ComplaintKind(str, Enum):
    complaint = "complaint"
    correction = "correction"


class TicketStatus(str, Enum):
    open = "open"
    processing = "processing"
    resolved = "resolved"
    closed = "closed"


class HandoffStatus(str, Enum):
    waiting = "waiting"
    claimed = "claimed"
    closed = "closed"


class Hall(Base):
    __tablename__ = "halls"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    district: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(50))


class ServiceItem(Base):
    """One 事项 (guide) as the backend needs it: id, 事项名称 and its time limits."""

    __tablename__ = "service_items"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    promised_days: Mapped[int] = mapped_column(Integer)
    legal_days: Mapped[int | None] = mapped_column(Integer)


class HallService(Base):
    """A service offered at a hall, at which window, with how many appointments per slot."""

    __tablename__ = "hall_services"
    __table_args__ = (CheckConstraint("capacity >= 0", name="capacity"),)

    hall_id: Mapped[str] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("service_items.id"), primary_key=True)
    window: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    # False once the guide no longer lists this hall (or the guide was removed): no new bookings,
    # while the row stays for the appointments that reference it.
    offered: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class NumberSequence(Base):
    """Last number handed out per prefix and day (e.g. ZW20261126), bumped atomically."""

    __tablename__ = "number_sequences"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("service_items.id"), index=True)
    service_name: Mapped[str] = mapped_column(String(100))
    hall_id: Mapped[str | None] = mapped_column(ForeignKey("halls.id"))
    window: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    applicant_name: Mapped[str] = mapped_column(String(60))
    id_masked: Mapped[str] = mapped_column(String(18))
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_tail_hash: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(11))
    phone_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[AppStatus] = mapped_column(_enum(AppStatus, "app_status"))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    promised_date: Mapped[dt.date | None] = mapped_column(Date)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    missing_materials: Mapped[list[str] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", order_by="ApplicationEvent.id", cascade="all, delete-orphan"
    )


class ApplicationEvent(Base):
    """One step of an application's timeline: what happened, when, who handled it."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    status: Mapped[AppStatus] = mapped_column(_enum(AppStatus, "app_event_status"))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    handler: Mapped[str] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
    missing_materials: Mapped[list[str] | None] = mapped_column(JSON)

    application: Mapped[Application] = relationship(back_populates="events")


class SlotCounter(Base):
    """Seats taken in one slot for one service at one hall; the CHECK makes overbooking impossible."""

    __tablename__ = "slot_counters"
    __table_args__ = (
        CheckConstraint("booked >= 0 AND booked <= capacity", name="within_capacity"),
        ForeignKeyConstraint(
            ["hall_id", "service_id"],
            ["hall_services.hall_id", "hall_services.service_id"],
            name="fk_slot_counters_hall_service",
        ),
    )

    hall_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot_start: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["hall_id", "service_id"],
            ["hall_services.hall_id", "hall_services.service_id"],
            name="fk_appointments_hall_service",
        ),
        # One active appointment per person and service, even under concurrent requests.
        Index(
            "uq_appointments_active_person_service",
            "person_hash",
            "service_id",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
        Index("ix_appointments_slot", "hall_id", "service_id", "slot_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    hall_id: Mapped[str] = mapped_column(String(32))
    service_id: Mapped[str] = mapped_column(String(64))
    slot_start: Mapped[dt.datetime] = mapped_column(DateTime)
    slot_end: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[AppointmentStatus] = mapped_column(_enum(AppointmentStatus, "appointment_status"))
    name_masked: Mapped[str] = mapped_column(String(60))
    id_masked: Mapped[str] = mapped_column(String(18))
    person_hash: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(11))
    phone_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    reschedules: Mapped[int] = mapped_column(Integer, default=0)


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        Index("uq_ratings_sender_turn", "sender_id", "turn_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    turn_id: Mapped[str] = mapped_column(String(64))
    guide_id: Mapped[str | None] = mapped_column(ForeignKey("service_items.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Complaint(Base):
    """投诉 or 曝光纠错, tracked by a number the resident can quote."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[ComplaintKind] = mapped_column(_enum(ComplaintKind, "complaint_kind"))
    content: Mapped[str] = mapped_column(Text)
    guide_id: Mapped[str | None] = mapped_column(ForeignKey("service_items.id"))
    sender_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    contact_masked: Mapped[str | None] = mapped_column(String(11))
    contact_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus, "ticket_status"))
    resolution: Mapped[str | None] = mapped_column(Text)
    turn_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the answer complained about
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Handoff(Base):
    """A conversation waiting for (or taken by) a human agent; its transcript is its lines."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket: Mapped[str] = mapped_column(String(32), unique=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[HandoffStatus] = mapped_column(_enum(HandoffStatus, "handoff_status"))
    agent: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    lines: Mapped[list[HandoffLine]] = relationship(order_by="HandoffLine.id", viewonly=True)


class HandoffLine(Base):
    """One line of a handoff's transcript. Lines are only ever inserted, so a resident's message
    relayed while an agent replies cannot overwrite the other's line."""

    __tablename__ = "handoff_lines"
    __table_args__ = (Index("ix_handoff_lines_handoff_id_id", "handoff_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"))
    role: Mapped[str] = mapped_column(String(8))  # user | bot | agent
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class HandoffReply(Base):
    """What a human agent wrote to the resident of a handoff; web residents fetch these by id
    (their inbox cursor), WeChat residents also get them through the customer-service API."""

    __tablename__ = "handoff_replies"
    __table_args__ = (Index("ix_handoff_replies_sender_id_id", "sender_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    agent: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditRecord(Base):
    """Who did what to which record, when, with what result. Append-only (database triggers)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Hash chain: row_hash = HMAC(key, prev_hash + this row's content); see services/audit.py.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class RateCounter(Base):
    """Hits per key in a fixed window; in the database so every gateway replica shares it."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class StaffRole(str, Enum):
    """Separate powers (三员分立 in spirit); auditor and admin are held alone (services/staff.py)."""

    agent = "agent"  # 坐席: agent-assist console, handoff desk
    business = "business"  # 业务: application status changes, complaints
    knowledge = "knowledge"  # 知识: knowledge editing
    analyst = "analyst"  # 数据: the workbench's dashboard and exports (masked conversation figures)
    auditor = "auditor"  # 审计: reads the audit log, nothing else
    admin = "admin"  # 管理员: accounts; cannot read the audit log


class StaffAccount(Base):
    """One member of staff. The password is stored only as an argon2id hash."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    roles: Mapped[list[str]] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class StaffSession(Base):
    """A signed-in browser. Only a hash of the cookie's token is stored; the row is shared by every
    gateway replica, and logout (revoked_at) ends it everywhere."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class PersonalDataHold(Base):
    """A personal identifier a form has validated, held (encrypted, briefly) until the form submits,
    so the Rasa tracker keeps only its masked form and a reference."""

    __tablename__ = "personal_data_holds"

    reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_hash: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # id_number | phone | name
    ciphertext: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class TurnKind(str, Enum):
    """What the assistant did with one resident message (the workbench's answered/fallback split)."""

    answered = "answered"  # a guide section, policy item, verdict or status
    clarified = "clarified"  # asked which service or situation was meant
    fallback = "fallback"  # said it was not sure / did not understand
    out_of_scope = "out_of_scope"  # politely refused a non-government question
    form_step = "form_step"  # an answer inside a form (booking, eligibility, complaint …)
    handoff = "handoff"  # passed to a person
    other = "other"  # greetings, thanks, ratings, chit-chat


class ReviewOutcome(str, Enum):
    """What 知识 staff did with an unanswered turn in the inbox."""

    alias = "alias"  # became an alias of a guide
    faq = "faq"  # became a FAQ of a guide
    out_of_scope = "out_of_scope"  # not ours to answer
    intent = "intent"  # labelled with the right intent for the next training
    dismissed = "dismissed"  # nothing to learn from it


class AnalyticsTurn(Base):
    """One resident message and what the assistant did with it, built from Rasa's event broker by
    the ingester. ``turn_id`` is Rasa's message id: a replayed event updates, never duplicates.
    Text is masked before it is stored; the sender is the keyed pseudonym of the logs."""

    __tablename__ = "analytics_turns"
    __table_args__ = (
        Index("ix_analytics_turns_at", "at"),
        Index("ix_analytics_turns_kind_at", "kind", "at"),
        Index("ix_analytics_turns_guide_at", "guide_id", "at"),
        Index("ix_analytics_turns_sender_at", "sender", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    turn_id: Mapped[str] = mapped_column(String(64), unique=True)
    sender: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    guide_id: Mapped[str | None] = mapped_column(String(64))  # no FK: a removed guide keeps its history
    section: Mapped[str | None] = mapped_column(String(24))
    situation: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[TurnKind] = mapped_column(_enum(TurnKind, "turn_kind"))
    latency_ms: Mapped[float | None] = mapped_column(Float)
    district: Mapped[str | None] = mapped_column(String(50))  # 县区 from the hall or the words
    review: Mapped[ReviewOutcome | None] = mapped_column(_enum(ReviewOutcome, "review_outcome"))
    review_detail: Mapped[str | None] = mapped_column(String(200))  # guide id, intent …
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AnalyticsCursor(Base):
    """How far the ingester has read a source (the SQL event broker's last row id); committed in
    the same transaction as the rows it produced, so a restart neither skips nor recounts."""

    __tablename__ = "analytics_cursors"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AgencyStatus(str, Enum):
    """代办 request status; received → assigned → in_progress → done, or cancelled on the way."""

    received = "received"
    assigned = "assigned"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class AgencyRequest(Base):
    """A resident's request for the free 代办 service (a village or community agent does the
    errand for them), for one guide or one life-event bundle. Name and phone are kept masked;
    the phone also as a keyed hash, which the status lookup must match, and sealed for the
    call back while the request is open."""

    __tablename__ = "agency_requests"
    __table_args__ = (
        CheckConstraint("(service_id IS NULL) <> (bundle_id IS NULL)", name="one_subject"),
        Index("ix_agency_requests_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(32), unique=True)
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service_items.id"))
    bundle_id: Mapped[str | None] = mapped_column(String(64))  # knowledge/bundles/<id>.yaml
    subject_name: Mapped[str] = mapped_column(String(100))  # 事项 or 一件事 name when requested
    name_masked: Mapped[str] = mapped_column(String(60))
    phone_masked: Mapped[str] = mapped_column(String(11))
    phone_hash: Mapped[str] = mapped_column(String(64))
    # The phone sealed (services/sealing.py) so 坐席/业务 can call back, revealed only on request
    # and audited; emptied when the request is finished or cancelled.
    phone_sealed: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str] = mapped_column(String(50))  # 县区
    town: Mapped[str] = mapped_column(String(50))  # 乡镇/街道
    note: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[AgencyStatus] = mapped_column(_enum(AgencyStatus, "agency_status"))
    agent: Mapped[str | None] = mapped_column(String(60))  # the 代办员 assigned
    staff_note: Mapped[str | None] = mapped_column(Text)  # the latest remark of staff
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
