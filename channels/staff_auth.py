"""Who is calling a staff route: the session cookie, resolved into a signed-in account whose roles
the route checks. The accounts and sessions themselves live in services/staff.py.

- Not signed in, or the session ended (idle, past its shift, signed out, account disabled): 401.
- A write (POST/PUT/PATCH/DELETE) without the session's CSRF token in ``X-CSRF-Token``: 403. The
  cookie is SameSite=Strict already; the header is the second lock, for browsers or proxies that
  do not honour SameSite.
- A role that may not: 403, and an audit row (``staff.forbidden``) naming the account and the
  method and path it called.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.requests import HTTPConnection
from starlette.concurrency import run_in_threadpool

from channels.routes.services import ErrorBody, get_services
from core.settings import Settings, get_settings
from services.models import StaffRole
from services.staff import ROLE_LABELS, SignedIn, StaffDirectory

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_SIGNED_IN = "请先登录。"
SESSION_ENDED = "登录已过期或已退出，请重新登录。"
CSRF_MISSING = "请求缺少有效的防跨站令牌（X-CSRF-Token），请刷新页面后重试。"


def _settings(connection: HTTPConnection) -> Settings:
    return getattr(connection.app.state, "settings", None) or get_settings()


def secure_cookies(settings: Settings) -> bool:
    """Plain-HTTP development on 127.0.0.1 aside, the session cookie travels only over HTTPS."""
    return settings.environment != "development"


def cookie_name(settings: Settings) -> str:
    # The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only and
    # for path /, so a sibling subdomain cannot plant or shadow it.
    return "__Host-zy-staff" if secure_cookies(settings) else "zy-staff"


def session_token(connection: HTTPConnection) -> str | None:
    return connection.cookies.get(cookie_name(_settings(connection))) or None


def get_directory(connection: HTTPConnection) -> StaffDirectory:
    """The app's staff directory, made on first use over the app's Services."""
    state = connection.app.state
    directory: StaffDirectory | None = getattr(state, "staff", None)
    if directory is None:
        directory = state.staff = StaffDirectory(get_services(connection), _settings(connection).staff)
    return directory


DirectoryDep = Annotated[StaffDirectory, Depends(get_directory)]


def error(code: int, kind: str, message: str) -> HTTPException:
    return HTTPException(status_code=code, detail=ErrorBody(code=kind, message=message).model_dump())


def csrf_ok(given: str | None, expected: str) -> bool:
    # Bytes, not str: compare_digest raises on non-ASCII str, which would be a 500.
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


def role_names(roles: tuple[StaffRole, ...]) -> str:
    return "、".join(f"“{ROLE_LABELS[role]}”" for role in roles)


def forbidden_message(roles: tuple[StaffRole, ...]) -> str:
    return f"此操作需要{role_names(roles)}角色，您的账号没有该权限。"


async def refuse_role(directory: StaffDirectory, current: SignedIn, target: str) -> None:
    """Audits a call the account's roles do not allow (the caller then answers 403 or closes)."""
    await run_in_threadpool(directory.forbidden, current.member.login, target)


def require(*roles: StaffRole) -> Any:
    """A dependency giving the signed-in account if it holds one of ``roles`` (any role if none)."""

    async def check(request: Request) -> SignedIn:
        token = session_token(request)
        if token is None:
            raise error(status.HTTP_401_UNAUTHORIZED, "not_signed_in", NOT_SIGNED_IN)
        directory = get_directory(request)
        current = await run_in_threadpool(directory.resolve, token)
        if current is None:
            raise error(status.HTTP_401_UNAUTHORIZED, "session_ended", SESSION_ENDED)
        if request.method not in SAFE_METHODS and not csrf_ok(
            request.headers.get(CSRF_HEADER), current.csrf_token
        ):
            raise error(status.HTTP_403_FORBIDDEN, "csrf", CSRF_MISSING)
        if roles and not current.member.has_any(roles):
            await refuse_role(directory, current, f"{request.method} {request.url.path}")
            raise error(status.HTTP_403_FORBIDDEN, "forbidden", forbidden_message(roles))
        return current

    return Depends(check)


SignedInDep = Annotated[SignedIn, require()]
AgentDep = Annotated[SignedIn, require(StaffRole.agent)]
BusinessDep = Annotated[SignedIn, require(StaffRole.business)]
AuditorDep = Annotated[SignedIn, require(StaffRole.auditor)]
