"""FastAPI routers for the gateway: parse, call :class:`Services`, render. Errors become 4xx here only.

``public_router`` is what residents' clients may call; the staff routes, each checking the
signed-in account's role, are channels/routes/staff.py and channels/assist/desk.py.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.requests import HTTPConnection
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from channels.ip_limits import limited
from services import errors
from services.applications import NEUTRAL_ANSWER, ApplicationView
from services.appointments import Booking, BookingRequest, SlotView
from services.catalog import HallServiceView, HallView
from services.facade import Services
from services.feedback import ComplaintRequest, ComplaintView, RatingRequest, RatingView
from services.text import check_channel, check_sender

FIELD_LABELS = {
    "number": "办件编号",
    "proof": "身份证号后6位或手机号",
    "sender_id": "会话标识",
    "hall_id": "大厅",
    "service_id": "事项",
    "day": "日期",
    "start": "预约时间",
    "new_start": "新的预约时间",
    "name": "姓名",
    "applicant_name": "申请人姓名",
    "id_number": "身份证号",
    "phone": "手机号",
    "contact_phone": "联系电话",
    "score": "评分",
    "comment": "评价内容",
    "content": "投诉或纠错内容",
    "kind": "类型",
    "turn_id": "对话轮次编号",
    "guide_id": "事项",
    "transcript": "对话记录",
    "status": "状态",
    "limit": "条数",
    "login": "登录名",
    "password": "密码",
    "year": "年份",
}
_BOUNDS = {"greater_than_equal": ("ge", "不能小于"), "less_than_equal": ("le", "不能大于")}

STATUS_BY_ERROR: list[tuple[type[errors.DomainError], int]] = [
    (errors.RateLimited, status.HTTP_429_TOO_MANY_REQUESTS),
    (errors.NotFound, status.HTTP_404_NOT_FOUND),
    (errors.Conflict, status.HTTP_409_CONFLICT),
    (errors.NotConfigured, status.HTTP_503_SERVICE_UNAVAILABLE),
    (errors.ServiceUnavailable, status.HTTP_503_SERVICE_UNAVAILABLE),
    (errors.DomainError, status.HTTP_422_UNPROCESSABLE_CONTENT),
]


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    detail: ErrorBody


def _validation_message(error: dict[str, Any]) -> tuple[str, str | None]:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    field = next(
        (part for part in reversed(location) if part in FIELD_LABELS), location[-1] if location else None
    )
    label = FIELD_LABELS.get(field or "", field or "请求")
    kind = str(error.get("type", ""))
    if kind == "missing":
        return f"缺少{label}。", field
    if kind == "json_invalid":
        return "请求内容不是有效的 JSON。", None
    if kind.startswith(("datetime", "date_from_datetime")):
        return f"{label}格式不正确，请使用 2026-12-01T09:30 这样的格式。", field
    if kind.startswith("date"):
        return f"{label}格式不正确，请使用 2026-12-01 这样的格式。", field
    if kind.startswith("int"):
        return f"{label}应为整数。", field
    if kind == "enum":
        expected = (error.get("ctx") or {}).get("expected", "")
        return f"{label}取值不正确，可选：{expected}。", field
    if kind.startswith("string_too_long"):
        return f"{label}过长。", field
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"{label}{words}{(error.get('ctx') or {}).get(key, '')}。", field
    return f"{label}格式不正确。", field


class ChineseErrorsRoute(APIRoute):
    """Maps domain errors to their HTTP status and FastAPI's validation errors to one Chinese
    message of the same shape; as a route class it works wherever the gateway mounts the router,
    without app-level exception handlers, and keeps every route down to parse, call, render."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                message, field = _validation_message(dict(error.errors()[0]))
                body = ErrorResponse(detail=ErrorBody(code="invalid_input", message=message, field=field))
                return JSONResponse(body.model_dump(), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
            except errors.DomainError as error:
                raise _http(error) from None

        return route


_lock = threading.Lock()


def get_services(request: HTTPConnection) -> Services:
    """The app's Services: set ``app.state.services`` at startup, or it is built on first use."""
    services = getattr(request.app.state, "services", None)
    if services is None:
        with _lock:
            services = getattr(request.app.state, "services", None)
            if services is None:
                services = Services.from_settings()
                request.app.state.services = services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _http(error: errors.DomainError) -> HTTPException:
    code = next(status_code for kind, status_code in STATUS_BY_ERROR if isinstance(error, kind))
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, errors.RateLimited) else None
    body = ErrorBody(code=error.code, message=error.message, field=error.field)
    return HTTPException(status_code=code, detail=body.model_dump(), headers=headers)


ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (404, 409, 422, 429)}

public_router = APIRouter(route_class=ChineseErrorsRoute, responses=ERRORS)


# 办件查询
class LookupRequest(BaseModel):
    number: str
    proof: str
    sender_id: str


@public_router.post(
    "/applications/lookup",
    tags=["办件"],
    summary="办件进度查询（需办件编号+身份证后6位或手机号）",
    dependencies=[limited("lookups")],
)
def lookup_application(body: LookupRequest, services: ServicesDep) -> ApplicationView:
    found = services.lookup_application(body.number, body.proof, body.sender_id)
    if found is None:
        raise errors.NotFound(NEUTRAL_ANSWER)
    return found


# 大厅与预约
@public_router.get("/halls", tags=["预约"], summary="政务服务大厅列表")
def list_halls(services: ServicesDep) -> list[HallView]:
    return services.halls()


@public_router.get("/halls/{hall_id}/services", tags=["预约"], summary="大厅可预约的事项与窗口")
def list_hall_services(hall_id: str, services: ServicesDep) -> list[HallServiceView]:
    return services.hall_services(hall_id)


@public_router.get("/halls/{hall_id}/slots", tags=["预约"], summary="某日可预约时段与余量")
def list_slots(
    hall_id: str, service_id: Annotated[str, Query()], day: Annotated[dt.date, Query()], services: ServicesDep
) -> list[SlotView]:
    return services.free_slots(hall_id, service_id, day)


@public_router.post(
    "/appointments",
    tags=["预约"],
    status_code=status.HTTP_201_CREATED,
    summary="预约取号（返回预约码）",
    dependencies=[limited("bookings")],
)
def book(body: BookingRequest, services: ServicesDep) -> Booking:
    return services.book(body)


@public_router.get(
    "/appointments/{code}",
    tags=["预约"],
    summary="按预约码查看预约（信息已脱敏）",
    dependencies=[limited("lookups")],
)
def get_booking(code: str, services: ServicesDep) -> Booking:
    return services.booking(code)


@public_router.get(
    "/appointments/{code}/calendar.ics",
    tags=["预约"],
    summary="预约日历文件（.ics）",
    dependencies=[limited("lookups")],
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def booking_calendar(code: str, services: ServicesDep) -> Response:
    content = services.booking_ics(code)
    return Response(
        content,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="appointment-{code.upper()}.ics"'},
    )


class CancelRequest(BaseModel):
    phone: str
    sender_id: str


class RescheduleRequest(BaseModel):
    phone: str
    sender_id: str
    new_start: dt.datetime


@public_router.post(
    "/appointments/{code}/cancel",
    tags=["预约"],
    summary="取消预约（预约码+手机号）",
    dependencies=[limited("lookups")],
)
def cancel(code: str, body: CancelRequest, services: ServicesDep) -> Booking:
    return services.cancel(code, body.phone, actor=body.sender_id)


@public_router.post(
    "/appointments/{code}/reschedule",
    tags=["预约"],
    summary="改期（预约码+手机号）",
    dependencies=[limited("lookups")],
)
def reschedule(code: str, body: RescheduleRequest, services: ServicesDep) -> Booking:
    return services.reschedule(code, body.phone, body.new_start, actor=body.sender_id)


# 评价、投诉、转人工
@public_router.post(
    "/ratings", tags=["反馈"], summary="满意度评价（1—5分）", dependencies=[limited("feedback")]
)
def rate(body: RatingRequest, services: ServicesDep) -> RatingView:
    return services.rate(body)


@public_router.post(
    "/complaints",
    tags=["反馈"],
    status_code=status.HTTP_201_CREATED,
    summary="投诉、曝光纠错（返回工单编号）",
    dependencies=[limited("tickets")],
)
def open_complaint(body: ComplaintRequest, services: ServicesDep) -> ComplaintView:
    return services.open_complaint(body)


@public_router.get(
    "/complaints/{tracking_number}",
    tags=["反馈"],
    summary="工单处理状态",
    dependencies=[limited("lookups")],
)
def complaint_status(tracking_number: str, services: ServicesDep) -> ComplaintView:
    return services.complaint_status(tracking_number)


# Channels whose senders arrive through their own endpoint and must not be impersonated here.
OWN_ENDPOINT = frozenset({"wechat"})


def check_own_conversation(sender_id: str, channel: str) -> None:
    """A JSON client acts only for a conversation of its own channel (``web:…`` for the widget),
    never for one that arrives through its own endpoint (``wechat:…``)."""
    check_sender(sender_id)
    check_channel(channel)
    if channel in OWN_ENDPOINT or not sender_id.startswith(f"{channel}:"):
        raise errors.InvalidInput(
            f"会话标识应以“{channel}:”开头，且不能代替其他渠道的会话。", field="sender_id"
        )
