"""免费代办 (seed item 20): a village or community agent does a service or a life-event bundle for
the resident. The resident opens a request and asks its state by tracking number + phone; staff
(坐席 or 业务) list the requests, assign an agent and move them along, every step audited.

Like complaints (services/feedback.py): a tracking number from services/numbers.py, the name and
phone masked, the phone also as a keyed hash, and sealed while the request is open so staff can
call the resident back (each reveal audited). Bundles are the indexer's (knowledge/bundles); they
are read only when a request names one, with a lazy import as services/catalog.py does.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import unicodedata
from collections.abc import Collection
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from services import audit, catalog
from services.context import Context
from services.errors import InvalidInput, InvalidTransition, NotFound
from services.identity import mask_name, mask_phone, mask_text, validate_name, validate_phone
from services.lookup_guard import LookupGuard
from services.models import AgencyRequest, AgencyStatus, Hall, ServiceItem
from services.numbers import next_number
from services.sealing import seal, unseal
from services.text import check_channel, check_sender, clean_text

NUMBER_PREFIX = "DB"
_NUMBER_RE = re.compile(rf"^{NUMBER_PREFIX}\d{{12,14}}$")
# The city itself has a hall (遵义市政务服务中心) but is not a 县区 an agent could be sent to.
PREFECTURE = "遵义市"
_DISTRICT_SUFFIX = re.compile(r"(仡佬族苗族自治县|新区|区|县|市)$")

STATUS_LABELS = {
    AgencyStatus.received: "已受理，待分派代办员",
    AgencyStatus.assigned: "已分派代办员",
    AgencyStatus.in_progress: "代办中",
    AgencyStatus.done: "已办结",
    AgencyStatus.cancelled: "已取消",
}
# assigned → assigned is a change of agent.
TRANSITIONS: dict[AgencyStatus, frozenset[AgencyStatus]] = {
    AgencyStatus.received: frozenset({AgencyStatus.assigned, AgencyStatus.cancelled}),
    AgencyStatus.assigned: frozenset(
        {AgencyStatus.assigned, AgencyStatus.in_progress, AgencyStatus.cancelled}
    ),
    AgencyStatus.in_progress: frozenset({AgencyStatus.done, AgencyStatus.cancelled}),
    AgencyStatus.done: frozenset(),
    AgencyStatus.cancelled: frozenset(),
}
FINISHED = frozenset({AgencyStatus.done, AgencyStatus.cancelled})

NEUTRAL_ANSWER = "没有查到与您所填信息相符的代办申请。请核对代办编号和申请时留的手机号。"


class AgencyRequestForm(BaseModel):
    """What the resident (or the village agent for them) fills in. Fields default to empty so a
    missing one gets the same Chinese message as a blank one."""

    sender_id: str = ""
    name: str = ""
    phone: str = ""
    district: str = ""
    town: str = ""
    service_id: str | None = None
    bundle_id: str | None = None
    note: str | None = None
    channel: str = "web"


class AgencyStatusView(BaseModel):
    """What the resident sees after proving the phone: the state, never another's details."""

    tracking_number: str
    subject_name: str
    district: str
    town: str
    status: AgencyStatus
    status_label: str
    agent_assigned: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class AgencyStaffView(AgencyStatusView):
    """What 坐席 and 业务 staff see: still masked; the phone is matched by hash, never shown whole."""

    id: int
    service_id: str | None
    bundle_id: str | None
    name_masked: str
    phone_masked: str
    note: str | None
    channel: str
    agent: str | None
    staff_note: str | None


def normalise_number(number: str) -> str:
    value = re.sub(r"\s+", "", number or "").upper()
    if not _NUMBER_RE.match(value):
        raise InvalidInput(
            f"代办编号格式不正确：应为“{NUMBER_PREFIX}”加日期和序号，如 {NUMBER_PREFIX}202611300001。",
            field="tracking_number",
        )
    return value


def districts(session: Session) -> list[str]:
    """The city's 县区, as the halls file names them (each has its own hall)."""
    names = session.scalars(select(Hall.district).distinct().order_by(Hall.district)).all()
    return [name for name in names if name != PREFECTURE]


def check_district(session: Session, value: str) -> str:
    """The 县区's full name; its short name (汇川、道真县) is understood too."""
    said = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).removeprefix(PREFECTURE)
    if not said:
        raise InvalidInput("请填写所在县区，如“汇川区”“湄潭县”。", field="district")
    known = districts(session)
    short = _DISTRICT_SUFFIX.sub("", said)
    for name in known:
        if said == name or (short and short == _DISTRICT_SUFFIX.sub("", name)):
            return name
    raise InvalidInput(f"“{said[:20]}”不是遵义市的县区，请从以下选择：{'、'.join(known)}。", field="district")


def bundle_names(bundles_dir: Path, guide_ids: Collection[str]) -> dict[str, str]:
    """id → name of every valid bundle whose member guides the catalog holds."""
    from indexer.bundles import load_bundles  # the bundle schema is the indexer's; import only when used

    return {loaded.bundle.id: loaded.bundle.name for loaded in load_bundles(bundles_dir, guide_ids).bundles}


def _subject(
    session: Session, form: AgencyRequestForm, bundles_dir: Path
) -> tuple[str | None, str | None, str]:
    """(service id, bundle id, name) for exactly one of the two."""
    service_id = (form.service_id or "").strip()
    bundle_id = (form.bundle_id or "").strip()
    if bool(service_id) == bool(bundle_id):
        raise InvalidInput("请选择要代办的一个事项或一件事（二选一）。", field="service_id")
    if service_id:
        service = catalog.get_service(session, service_id)
        return service.id, None, service.name
    names = bundle_names(bundles_dir, session.scalars(select(ServiceItem.id)).all())
    if bundle_id not in names:
        raise NotFound("没有找到这件“一件事”，请从列表中选择。", field="bundle_id")
    return None, bundle_id, names[bundle_id]


def open_request(
    session: Session, ctx: Context, form: AgencyRequestForm, *, bundles_dir: Path
) -> AgencyStatusView:
    sender_id = check_sender(form.sender_id)
    channel = check_channel(form.channel)
    name = validate_name(form.name)
    phone = validate_phone(form.phone)
    district = check_district(session, form.district)
    town = clean_text(form.town, field="town", label="乡镇或街道", max_chars=50, required=True) or ""
    note = clean_text(form.note, field="note", label="补充说明", max_chars=ctx.settings.max_comment_chars)
    service_id, bundle_id, subject_name = _subject(session, form, bundles_dir)
    request = AgencyRequest(
        tracking_number=next_number(session, NUMBER_PREFIX, ctx.today),
        service_id=service_id,
        bundle_id=bundle_id,
        subject_name=subject_name,
        name_masked=mask_name(name),
        phone_masked=mask_phone(phone),
        phone_hash=ctx.hash("phone", phone),
        district=district,
        town=mask_text(town),
        note=mask_text(note) if note else None,
        channel=channel,
        sender_id=sender_id,
        status=AgencyStatus.received,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    session.add(request)
    session.flush()
    request.phone_sealed = seal(ctx, phone, _contact_bound(request))
    audit.record(
        session,
        at=ctx.now,
        actor=sender_id,
        action="agency.open",
        target=request.tracking_number,
        result=AgencyStatus.received.value,
        detail={"service": service_id, "bundle": bundle_id, "district": district, "channel": channel},
    )
    return _status_view(request)


def lookup(
    session: Session, ctx: Context, tracking_number: str, phone: str, sender_id: str
) -> AgencyStatusView | None:
    """The request if ``phone`` is the one it was opened with; None for a wrong phone *and* an
    unknown number. Rate-limited per sender and per number as application lookups are (the same
    settings); every lookup that reaches the database is audited."""
    sender_id = check_sender(sender_id)
    number = normalise_number(tracking_number)
    phone_hash = ctx.hash("phone", validate_phone(phone))
    guard = LookupGuard(session, ctx, "agency.lookup", "agency", sender_id, number)
    guard.admit()
    request = _get(session, number)
    expected = request.phone_hash if request is not None else ""
    if request is None or not hmac.compare_digest(expected, phone_hash):
        guard.no_match()
        return None
    guard.found({"status": request.status.value})
    return _status_view(request)


def staff_list(
    session: Session,
    *,
    status: AgencyStatus | None = None,
    district: str | None = None,
    limit: int = 100,
) -> list[AgencyStaffView]:
    """Newest first, optionally one status and one 县区 (its short name will do)."""
    query = select(AgencyRequest).order_by(AgencyRequest.created_at.desc(), AgencyRequest.id.desc())
    if status is not None:
        query = query.where(AgencyRequest.status == status)
    if district:
        query = query.where(AgencyRequest.district == check_district(session, district))
    return [_staff_view(request) for request in session.scalars(query.limit(limit))]


def staff_get(session: Session, tracking_number: str) -> AgencyStaffView:
    request = _get(session, normalise_number(tracking_number))
    if request is None:
        raise NotFound("没有这个代办编号。", field="tracking_number")
    return _staff_view(request)


def change_status(
    session: Session,
    ctx: Context,
    tracking_number: str,
    status: AgencyStatus,
    *,
    actor: str,
    agent: str | None = None,
    note: str | None = None,
) -> AgencyStaffView:
    """Staff side: assign an agent (or another one), start, finish or cancel; refuses other moves."""
    request = _get(session, normalise_number(tracking_number), lock=True)
    if request is None:
        raise NotFound("没有这个代办编号。", field="tracking_number")
    if status not in TRANSITIONS[request.status]:
        raise InvalidTransition(
            f"代办申请当前为“{STATUS_LABELS[request.status]}”，不能改为“{STATUS_LABELS[status]}”。",
            field="status",
        )
    agent = clean_text(agent, field="agent", label="代办员", max_chars=60)
    note = clean_text(note, field="note", label="处理说明", max_chars=500)
    if status is AgencyStatus.assigned:
        if not agent:
            raise InvalidInput("分派时请填写代办员姓名。", field="agent")
        request.agent = agent
    if status is AgencyStatus.cancelled and not note:
        raise InvalidInput("取消代办申请时请写明原因。", field="note")
    previous = request.status
    request.status = status
    if status in FINISHED:
        request.phone_sealed = None  # no call back after the request is over
    request.staff_note = mask_text(note) if note else request.staff_note
    request.updated_at = ctx.now
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="agency.status",
        target=request.tracking_number,
        result=status.value,
        detail={"from": previous.value, "agent": request.agent},
    )
    return _staff_view(request)


def reveal_phone(session: Session, ctx: Context, tracking_number: str, *, actor: str) -> str:
    """Staff side: the resident's whole phone, to call back about an open request; every reveal
    is audited with who asked. Finished and cancelled requests no longer keep it."""
    request = _get(session, normalise_number(tracking_number))
    if request is None:
        raise NotFound("没有这个代办编号。", field="tracking_number")
    phone = unseal(ctx, request.phone_sealed, _contact_bound(request)) if request.phone_sealed else None
    if phone is None:
        raise NotFound("这件代办申请已结束或未保存联系电话，无法查看完整号码。", field="tracking_number")
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="agency.phone_revealed",
        target=request.tracking_number,
        result="shown",
        detail={"status": request.status.value},
    )
    return phone


def _contact_bound(request: AgencyRequest) -> str:
    return f"agency-phone\0{request.id}\0{request.tracking_number}"


def _get(session: Session, number: str, *, lock: bool = False) -> AgencyRequest | None:
    query = select(AgencyRequest).where(AgencyRequest.tracking_number == number)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def _status_view(request: AgencyRequest) -> AgencyStatusView:
    return AgencyStatusView(
        tracking_number=request.tracking_number,
        subject_name=request.subject_name,
        district=request.district,
        town=request.town,
        status=request.status,
        status_label=STATUS_LABELS[request.status],
        agent_assigned=request.agent is not None,
        created_at=request.created_at,
        updated_at=request.updated_at,
    )


def _staff_view(request: AgencyRequest) -> AgencyStaffView:
    return AgencyStaffView(
        **_status_view(request).model_dump(),
        id=request.id,
        service_id=request.service_id,
        bundle_id=request.bundle_id,
        name_masked=request.name_masked,
        phone_masked=request.phone_masked,
        note=request.note,
        channel=request.channel,
        agent=request.agent,
        staff_note=request.staff_note,
    )
