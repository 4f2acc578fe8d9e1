"""办件: submission, the status timeline, promised dates, and the proof-guarded status lookup."""

from __future__ import annotations

import datetime as dt
import hmac
import re

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from services import audit, catalog
from services.context import Context
from services.errors import InvalidInput, InvalidTransition, NotFound
from services.identity import (
    mask_id_number,
    mask_name,
    mask_phone,
    validate_id_number,
    validate_name,
    validate_phone,
)
from services.lookup_guard import LookupGuard
from services.models import Application, ApplicationEvent, AppStatus
from services.numbers import next_number
from services.text import check_channel, check_sender, clean_text
from services.workdays import add_working_days

NUMBER_PREFIX = "ZW"
_NUMBER_RE = re.compile(rf"^{NUMBER_PREFIX}\d{{12,14}}$")
_ID_TAIL_RE = re.compile(r"^\d{5}[\dX]$")

STATUS_LABELS = {
    AppStatus.submitted: "申请",
    AppStatus.accepted: "受理",
    AppStatus.reviewing: "审查",
    AppStatus.decided: "决定",
    AppStatus.completed: "办结（已送达）",
    AppStatus.needs_correction: "需补正",
    AppStatus.rejected: "不予受理",
    AppStatus.withdrawn: "已撤回",
}

# The plan's stages and their side branches; anything else is refused.
TRANSITIONS: dict[AppStatus, frozenset[AppStatus]] = {
    AppStatus.submitted: frozenset(
        {AppStatus.accepted, AppStatus.needs_correction, AppStatus.rejected, AppStatus.withdrawn}
    ),
    AppStatus.needs_correction: frozenset({AppStatus.accepted, AppStatus.rejected, AppStatus.withdrawn}),
    AppStatus.accepted: frozenset({AppStatus.reviewing, AppStatus.withdrawn}),
    AppStatus.reviewing: frozenset({AppStatus.decided, AppStatus.withdrawn}),
    AppStatus.decided: frozenset({AppStatus.completed}),
    AppStatus.completed: frozenset(),
    AppStatus.rejected: frozenset(),
    AppStatus.withdrawn: frozenset(),
}
FINISHED = frozenset({AppStatus.completed, AppStatus.rejected, AppStatus.withdrawn})

NEUTRAL_ANSWER = "没有查到与您所填信息相符的办件。请核对办件编号，以及身份证号后6位或预留手机号。"


class ApplicationRequest(BaseModel):
    service_id: str
    applicant_name: str
    id_number: str
    phone: str
    channel: str = "window"
    hall_id: str | None = None


class TimelineStep(BaseModel):
    status: AppStatus
    label: str
    at: dt.datetime
    handler: str
    note: str | None = None
    missing_materials: list[str] | None = None


class ApplicationView(BaseModel):
    """What a resident who proved the application is theirs may see; identifiers stay masked."""

    number: str
    service_id: str
    service_name: str
    status: AppStatus
    status_label: str
    applicant: str = Field(description="姓名（已脱敏）")
    id_masked: str
    phone_masked: str
    channel: str
    hall_id: str | None
    window: str | None
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None
    promised_date: dt.date | None = Field(description="承诺办结日期（自受理次日起按工作日计算）")
    finished_at: dt.datetime | None
    missing_materials: list[str] | None
    reason: str | None
    timeline: list[TimelineStep]


def normalise_number(number: str) -> str:
    value = re.sub(r"\s+", "", number or "").upper()
    if not _NUMBER_RE.match(value):
        raise InvalidInput(
            f"办件编号格式不正确：应为“{NUMBER_PREFIX}”加日期和序号，如 {NUMBER_PREFIX}202611260001。",
            field="number",
        )
    return value


def _proof_hashes(ctx: Context, proof: str) -> tuple[str, str]:
    """(which column, keyed hash) for a proof that is either an ID tail or a phone number."""
    value = re.sub(r"[\s\-]", "", proof or "").upper()
    if _ID_TAIL_RE.match(value):
        return "id_tail", ctx.hash("id_tail", value)
    if value.isdigit() and len(value) >= 11:
        return "phone", ctx.hash("phone", validate_phone(value))
    raise InvalidInput("请提供身份证号后6位（最后一位可能是X）或办理时预留的手机号。", field="proof")


def submit(
    session: Session,
    ctx: Context,
    request: ApplicationRequest,
    *,
    handler: str,
    at: dt.datetime | None = None,
) -> ApplicationView:
    """Register a new application in status 申请 and return it with its number."""
    at = at or ctx.now
    name = validate_name(request.applicant_name)
    id_number = validate_id_number(request.id_number, today=at.date())
    phone = validate_phone(request.phone)
    channel = check_channel(request.channel)
    handler = clean_text(handler, field="handler", label="经办人", max_chars=60, required=True) or ""
    service = catalog.get_service(session, request.service_id)
    hall_id, window = None, None
    if request.hall_id is not None:
        offer = catalog.get_hall_service(session, request.hall_id, service.id)
        hall_id, window = offer.hall_id, offer.window
    application = Application(
        number=next_number(session, NUMBER_PREFIX, at.date()),
        service_id=service.id,
        service_name=service.name,
        hall_id=hall_id,
        window=window,
        channel=channel,
        applicant_name=name,
        id_masked=mask_id_number(id_number),
        id_hash=ctx.hash("id", id_number),
        id_tail_hash=ctx.hash("id_tail", id_number[-6:]),
        phone_masked=mask_phone(phone),
        phone_hash=ctx.hash("phone", phone),
        status=AppStatus.submitted,
        submitted_at=at,
        updated_at=at,
    )
    application.events.append(ApplicationEvent(status=AppStatus.submitted, at=at, handler=handler))
    session.add(application)
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=handler,
        action="application.submit",
        target=application.number,
        result=AppStatus.submitted.value,
        detail={"service": service.id, "channel": channel},
    )
    return _view(application)


def advance(
    session: Session,
    ctx: Context,
    number: str,
    status: AppStatus,
    *,
    handler: str,
    note: str | None = None,
    missing_materials: list[str] | None = None,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> ApplicationView:
    """Move an application one step along the plan (staff side); refuses steps the plan does not allow."""
    at = at or ctx.now
    application = _get(session, normalise_number(number), lock=True)
    if application is None:
        raise NotFound("没有这个办件编号。", field="number")
    if status not in TRANSITIONS[application.status]:
        raise InvalidTransition(
            f"办件当前为“{STATUS_LABELS[application.status]}”，不能变更为“{STATUS_LABELS[status]}”。",
            field="status",
        )
    handler = clean_text(handler, field="handler", label="经办人", max_chars=60, required=True) or ""
    note = clean_text(note, field="note", label="说明", max_chars=500)
    materials = None
    if status is AppStatus.needs_correction:
        materials = [
            m
            for m in (
                clean_text(x, field="missing_materials", label="材料名称", max_chars=100)
                for x in missing_materials or []
            )
            if m
        ]
        if not materials:
            raise InvalidInput("需补正时须列出缺少或需更正的材料。", field="missing_materials")
    if status is AppStatus.rejected:
        reason = clean_text(reason, field="reason", label="不予受理理由", max_chars=500, required=True)
        note = note or reason
    elif status is AppStatus.withdrawn:
        reason = clean_text(reason, field="reason", label="撤回原因", max_chars=500)

    previous = application.status
    application.status = status
    application.updated_at = at
    application.missing_materials = materials
    if status is AppStatus.accepted:
        # The promise runs from acceptance: after 补正 the clock restarts at the new acceptance.
        application.accepted_at = at
        application.promised_date = promised_date(at.date(), _promised_days(session, application))
    if status in FINISHED:
        application.finished_at = at
        application.reason = reason
    application.events.append(
        ApplicationEvent(status=status, at=at, handler=handler, note=note, missing_materials=materials)
    )
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=handler,
        action="application.status",
        target=application.number,
        result=status.value,
        detail={"from": previous.value},
    )
    return _view(application)


def promised_date(accepted_on: dt.date, promised_days: int) -> dt.date:
    """承诺办结日期: the promised number of working days after the day of acceptance."""
    return add_working_days(accepted_on, promised_days)


def lookup(session: Session, ctx: Context, number: str, proof: str, sender_id: str) -> ApplicationView | None:
    """The application if ``proof`` (ID tail or phone) matches; None for a mismatch *and* an unknown number.

    Rate-limited per sender and, against guessing from many senders, per number; every lookup
    that reaches the database is audited. Raises RateLimited (its audit row is kept).
    """
    sender_id = check_sender(sender_id)
    number = normalise_number(number)
    proof_kind, proof_hash = _proof_hashes(ctx, proof)
    guard = LookupGuard(session, ctx, "application.lookup", "lookup", sender_id, number)
    guard.admit()
    application = _get(session, number)
    # The proof hash is computed either way, so an unknown number costs the same as a wrong proof.
    expected = (
        ""
        if application is None
        else (application.id_tail_hash if proof_kind == "id_tail" else application.phone_hash)
    )
    if application is None or not hmac.compare_digest(expected, proof_hash):
        guard.no_match({"proof": proof_kind})
        return None
    guard.found({"proof": proof_kind, "status": application.status.value})
    return _view(application)


def count_by_status(session: Session) -> dict[AppStatus, int]:
    rows = session.execute(select(Application.status, func.count()).group_by(Application.status)).all()
    return {status: int(count) for status, count in rows}


def _get(session: Session, number: str, *, lock: bool = False) -> Application | None:
    query = select(Application).where(Application.number == number).options(joinedload(Application.events))
    if lock:
        query = query.with_for_update(of=Application)
    return session.scalars(query).unique().one_or_none()


def _promised_days(session: Session, application: Application) -> int:
    return catalog.get_service(session, application.service_id).promised_days


def _view(application: Application) -> ApplicationView:
    return ApplicationView(
        number=application.number,
        service_id=application.service_id,
        service_name=application.service_name,
        status=application.status,
        status_label=STATUS_LABELS[application.status],
        applicant=mask_name(application.applicant_name),
        id_masked=application.id_masked,
        phone_masked=application.phone_masked,
        channel=application.channel,
        hall_id=application.hall_id,
        window=application.window,
        submitted_at=application.submitted_at,
        accepted_at=application.accepted_at,
        promised_date=application.promised_date,
        finished_at=application.finished_at,
        missing_materials=application.missing_materials,
        reason=application.reason,
        timeline=[
            TimelineStep(
                status=event.status,
                label=STATUS_LABELS[event.status],
                at=event.at,
                handler=event.handler,
                note=event.note,
                missing_materials=event.missing_materials,
            )
            for event in application.events
        ],
    )
