"""Staff routes under /api/staff: applications and complaints (role 业务) and the audit log (role
审计). The handoff desk is channels/assist/desk.py (role 坐席).

The handler or actor passed to every service call is the signed-in account's login name, never a
name from the request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from channels.routes.services import ERRORS, ChineseErrorsRoute, ServicesDep
from channels.staff_auth import AuditorDep, BusinessDep
from services.applications import ApplicationRequest, ApplicationView
from services.audit import AuditView
from services.feedback import ComplaintView
from services.models import AppStatus, TicketStatus

router = APIRouter(tags=["工作人员"], route_class=ChineseErrorsRoute, responses=ERRORS)


class StatusChange(BaseModel):
    status: AppStatus
    note: str | None = None
    missing_materials: list[str] | None = None
    reason: str | None = None


class TicketChange(BaseModel):
    status: TicketStatus
    resolution: str | None = None


@router.post("/applications", status_code=status.HTTP_201_CREATED, summary="登记办件（申请）")
def submit_application(
    body: ApplicationRequest, staff: BusinessDep, services: ServicesDep
) -> ApplicationView:
    return services.submit_application(body, handler=staff.member.login)


@router.post("/applications/{number}/status", summary="办件流转（受理、补正、决定…）")
def advance_application(
    number: str, body: StatusChange, staff: BusinessDep, services: ServicesDep
) -> ApplicationView:
    return services.advance_application(
        number,
        body.status,
        handler=staff.member.login,
        note=body.note,
        missing_materials=body.missing_materials,
        reason=body.reason,
    )


@router.post("/complaints/{tracking_number}/status", summary="工单状态变更")
def update_complaint(
    tracking_number: str, body: TicketChange, staff: BusinessDep, services: ServicesDep
) -> ComplaintView:
    return services.update_complaint(
        tracking_number, body.status, actor=staff.member.login, resolution=body.resolution
    )


@router.get("/audit", summary="审计日志（只读；每次查阅本身也记入审计）")
def audit_log(
    staff: AuditorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: str | None = None,
    target: str | None = None,
) -> list[AuditView]:
    return services.audit_log(reader=staff.member.login, limit=limit, action=action, target=target)
