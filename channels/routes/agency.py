"""免费代办 requests: residents open one and ask its state (``public_router``, under /api/services);
坐席 and 业务 staff list them, assign an agent and move them along (``staff_router``, under
/api/staff). The actor of every staff change is the signed-in account's login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel

from channels.ip_limits import limited
from channels.routes.services import ERRORS, ChineseErrorsRoute, ServicesDep, check_own_conversation
from channels.staff_auth import require
from core.settings import Settings, get_settings
from services import errors
from services.agency import NEUTRAL_ANSWER, AgencyRequestForm, AgencyStaffView, AgencyStatusView
from services.models import AgencyStatus, StaffRole
from services.staff import SignedIn

public_router = APIRouter(tags=["代办"], route_class=ChineseErrorsRoute, responses=ERRORS)
staff_router = APIRouter(tags=["代办"], route_class=ChineseErrorsRoute, responses=ERRORS)

AgencyStaffDep = Annotated[SignedIn, require(StaffRole.agent, StaffRole.business)]


def _settings(request: Request) -> Settings:
    return getattr(request.app.state, "settings", None) or get_settings()


class AgencyLookup(BaseModel):
    tracking_number: str = ""
    phone: str = ""
    sender_id: str = ""


class AgencyChange(BaseModel):
    status: AgencyStatus
    agent: str | None = None
    note: str | None = None


@public_router.post(
    "/agency-requests",
    status_code=status.HTTP_201_CREATED,
    summary="申请免费代办（返回代办编号）",
    dependencies=[limited("tickets")],
)
def open_agency_request(body: AgencyRequestForm, request: Request, services: ServicesDep) -> AgencyStatusView:
    check_own_conversation(body.sender_id, body.channel)
    return services.open_agency_request(body, bundles_dir=_settings(request).knowledge.bundles_dir)


@public_router.post(
    "/agency-requests/status",
    summary="代办进度查询（代办编号+申请时留的手机号）",
    dependencies=[limited("lookups")],
)
def agency_status(body: AgencyLookup, services: ServicesDep) -> AgencyStatusView:
    found = services.agency_status(body.tracking_number, body.phone, body.sender_id)
    if found is None:
        raise errors.NotFound(NEUTRAL_ANSWER)
    return found


@staff_router.get("/agency-requests", summary="代办申请列表（新的在前，可按状态、县区筛选）")
def list_agency_requests(
    staff: AgencyStaffDep,
    services: ServicesDep,
    status: AgencyStatus | None = None,
    district: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AgencyStaffView]:
    return services.agency_requests(status=status, district=district, limit=limit)


@staff_router.get("/agency-requests/{tracking_number}", summary="查看一件代办申请")
def get_agency_request(tracking_number: str, staff: AgencyStaffDep, services: ServicesDep) -> AgencyStaffView:
    return services.agency_request(tracking_number)


class AgencyContact(BaseModel):
    tracking_number: str
    phone: str


@staff_router.post(
    "/agency-requests/{tracking_number}/phone", summary="查看完整手机号以回电（仅未办结的申请，留痕）"
)
def reveal_agency_phone(tracking_number: str, staff: AgencyStaffDep, services: ServicesDep) -> AgencyContact:
    phone = services.reveal_agency_phone(tracking_number, actor=staff.member.login)
    return AgencyContact(tracking_number=tracking_number, phone=phone)


@staff_router.post(
    "/agency-requests/{tracking_number}/status", summary="代办申请流转（分派、代办中、办结、取消）"
)
def change_agency_status(
    tracking_number: str, body: AgencyChange, staff: AgencyStaffDep, services: ServicesDep
) -> AgencyStaffView:
    return services.change_agency_status(
        tracking_number, body.status, actor=staff.member.login, agent=body.agent, note=body.note
    )
