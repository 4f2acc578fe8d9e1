"""Signing staff in and out: POST /api/staff/login, POST /api/staff/logout, GET /api/staff/me.

Login sets the session cookie (HttpOnly, SameSite=Strict, Secure outside development) and answers
with the CSRF token the page must send back on every write. Attempts are limited per client
address across gateways, on top of each account's own lockout (services/staff.py).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from channels.client_ip import ClientIpDep, limit_key
from channels.ip_limits import wait_phrase
from channels.routes.services import ERRORS, ChineseErrorsRoute
from channels.staff_auth import (
    DirectoryDep,
    SignedInDep,
    cookie_name,
    error,
    secure_cookies,
    session_token,
)
from channels.throttle import Throttle
from core.settings import Settings, get_settings
from services.errors import RateLimited
from services.models import StaffRole
from services.staff import ROLE_LABELS, AccountLocked, LoginRefused, SignedIn

router = APIRouter(
    prefix="/api/staff", tags=["工作人员登录"], route_class=ChineseErrorsRoute, responses=ERRORS
)


class LoginRequest(BaseModel):
    login: str = Field(max_length=64)
    password: str = Field(max_length=256)


class StaffProfile(BaseModel):
    login: str
    display_name: str
    roles: list[StaffRole]
    role_labels: list[str]
    csrf_token: str = Field(description="每个写请求都须在 X-CSRF-Token 头中带上")
    expires_at: dt.datetime = Field(description="最迟到此时须重新登录")
    idle_minutes: int = Field(description="闲置这么久会话即结束")


def _profile(request: Request, current: SignedIn) -> StaffProfile:
    member = current.member
    return StaffProfile(
        login=member.login,
        display_name=member.display_name,
        roles=member.roles,
        role_labels=[ROLE_LABELS[role] for role in member.roles],
        csrf_token=current.csrf_token,
        expires_at=current.expires_at,
        idle_minutes=_settings(request).staff.idle_minutes,
    )


def _settings(request: Request) -> Settings:
    return getattr(request.app.state, "settings", None) or get_settings()


def _throttle(request: Request) -> Throttle:
    state = request.app.state
    throttle: Throttle | None = getattr(state, "login_throttle", None)
    if throttle is None:
        settings = _settings(request)
        throttle = state.login_throttle = Throttle(
            "staff-login", settings.staff.logins_per_minute, settings.gateway.redis_url
        )
    return throttle


@router.post("/login", summary="工作人员登录（设置会话 Cookie，返回防跨站令牌）")
async def login(
    body: LoginRequest, request: Request, response: Response, directory: DirectoryDep, client: ClientIpDep
) -> StaffProfile:
    decision = await _throttle(request).check(limit_key(client))
    if not decision.allowed:
        raise RateLimited(
            f"登录尝试太频繁，请{wait_phrase(decision.retry_after)}再试。", retry_after=decision.retry_after
        )
    try:
        signed_in = await run_in_threadpool(
            lambda: directory.sign_in(body.login, body.password, source=client)
        )
    except AccountLocked as locked:
        raise RateLimited(locked.message, retry_after=locked.retry_after) from None
    except LoginRefused as refused:
        raise error(status.HTTP_401_UNAUTHORIZED, refused.code, refused.message) from None
    settings = _settings(request)
    response.set_cookie(
        cookie_name(settings),
        signed_in.token,
        max_age=settings.staff.absolute_hours * 3600,
        path="/",
        secure=secure_cookies(settings),
        httponly=True,
        samesite="strict",
    )
    return _profile(request, signed_in)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="退出登录（会话在所有网关上失效）")
async def logout(request: Request, _current: SignedInDep, directory: DirectoryDep) -> Response:
    await run_in_threadpool(directory.sign_out, session_token(request) or "")
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    settings = _settings(request)
    response.delete_cookie(
        cookie_name(settings), path="/", secure=secure_cookies(settings), httponly=True, samesite="strict"
    )
    return response


@router.get("/me", summary="当前登录的工作人员（页面刷新后取回防跨站令牌）")
def me(request: Request, current: SignedInDep) -> StaffProfile:
    return _profile(request, current)
