"""Staff sign-in at the gateway: the session cookie, roles, CSRF, lockout and the console's socket,
on the real app with a scratch database and the services clock under the test's control."""

from __future__ import annotations

import datetime as dt
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

sys.path.insert(0, str(Path(__file__).parent))  # staff_support, whatever pytest's import mode

from staff_support import PASSWORD, add_account, browser, sign_in

from channels.app import create_app
from channels.assist import live
from core.settings import GatewaySettings, ServicesSettings, Settings, StaffSettings
from services.catalog import load_catalog
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services
from services.models import AuditRecord

APPLICANT = {"applicant_name": "张三", "id_number": "11010519491231002X", "phone": "15800009119"}


@dataclass
class Clock:
    now: dt.datetime = dt.datetime(2026, 11, 26, 10, 0)

    def __call__(self) -> dt.datetime:
        return self.now


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _app(directory: Path, clock: Clock, environment: str, logins_per_minute: int) -> Iterator[TestClient]:
    url = f"sqlite:///{directory / 'services.db'}"
    settings = Settings(
        environment=environment,  # type: ignore[arg-type]
        services=ServicesSettings(database_url=url),
        gateway=GatewaySettings(rasa_url=_dead_url(), rasa_timeout_seconds=1),
        staff=StaffSettings(logins_per_minute=logins_per_minute),
    )
    migrate(url)
    services = Services(make_sessionmaker(make_engine(url)), settings.services, clock=clock)
    services.sync_catalog(load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file))
    with TestClient(create_app(settings, services=services)) as client:
        yield client


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Iterator[TestClient]:
    """The running gateway on development settings (plain HTTP on loopback), one account of each kind."""
    for running in _app(tmp_path_factory.mktemp("staff-auth"), clock, "development", 1000):
        add_account(running, "zy1001", "王芳", "agent")
        add_account(running, "zy2001", "李强", "business")
        add_account(running, "zy3001", "赵敏", "auditor")
        add_account(running, "zy9001", "钱管理", "admin")
        yield running


def _records(app: TestClient, action: str) -> list[tuple[str, str | None, str]]:
    with app.app.state.services.unit() as (session, _ctx):  # type: ignore[attr-defined]
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
        )
        return [(row.actor, row.target, row.result) for row in rows]


def _message(response: Any) -> str:
    return str(response.json()["detail"]["message"])


def _submit(client: TestClient) -> str:
    created = client.post(
        "/api/staff/applications",
        json={"service_id": "budongchan_zhuanyi_dengji", "hall_id": "city", **APPLICANT},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["number"])


def test_signing_in_sets_a_strict_http_only_cookie_and_returns_the_csrf_token(app: TestClient) -> None:
    client = browser(app)
    response = client.post("/api/staff/login", json={"login": "ZY1001", "password": PASSWORD})
    assert response.status_code == 200, response.text
    profile = response.json()
    assert (profile["login"], profile["display_name"], profile["role_labels"]) == ("zy1001", "王芳", ["坐席"])
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("zy-staff=") and profile["csrf_token"] not in cookie
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/", "Max-Age=28800"):
        assert attribute.lower() in cookie.lower()
    assert "secure" not in cookie.lower()  # development on plain HTTP
    me = client.get("/api/staff/me").json()
    assert me["login"] == "zy1001" and me["csrf_token"] == profile["csrf_token"]


def test_outside_development_the_cookie_is_secure_and_host_only(
    tmp_path_factory: pytest.TempPathFactory, clock: Clock
) -> None:
    for app in _app(tmp_path_factory.mktemp("staff-auth-test"), clock, "test", 3):
        add_account(app, "zy1001", "王芳", "agent")
        signed_in = sign_in(app, "zy1001", secure=True)
        cookie = signed_in.cookies.jar
        assert [(c.name, c.secure) for c in cookie] == [("__Host-zy-staff", True)]
        assert signed_in.get("/api/staff/me").status_code == 200
        # Over plain HTTP the browser keeps the cookie to itself.
        assert browser(app).get("/api/staff/me").status_code == 401

        # Sign-in attempts are limited per client address (3 a minute here; sign_in used one),
        # right or wrong.
        stranger = browser(app, secure=True)
        codes = [
            stranger.post("/api/staff/login", json={"login": "zy1001", "password": "x"}).status_code
            for _ in range(2)
        ]
        throttled = stranger.post("/api/staff/login", json={"login": "zy1001", "password": PASSWORD})
        assert codes == [401, 401]
        assert throttled.status_code == 429 and "登录尝试太频繁" in _message(throttled)
        assert int(throttled.headers["retry-after"]) >= 1


def test_a_wrong_password_is_refused_and_audited(app: TestClient) -> None:
    client = browser(app)
    wrong = client.post("/api/staff/login", json={"login": "zy2001", "password": "wrong-" + PASSWORD})
    assert wrong.status_code == 401 and _message(wrong) == "登录名或密码不正确。"
    assert "set-cookie" not in wrong.headers
    unknown = client.post("/api/staff/login", json={"login": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401 and _message(unknown) == _message(wrong)
    assert ("anonymous", "zy2001", "wrong_password") in _records(app, "staff.login")
    assert client.get("/api/staff/me").status_code == 401


def test_non_ascii_credentials_and_tokens_never_give_a_500(app: TestClient) -> None:
    client = browser(app)
    for body, status in (
        ('{"login": "王芳", "password": "密码"}', 401),
        ('{"login": "zy1001\\u0000", "password": "🙂🙂🙂"}', 401),
        ('{"login": "zy1001", "password": "\\udcff"}', 422),  # a lone surrogate: not valid text
    ):
        response = client.post(
            "/api/staff/login", content=body.encode(), headers={"content-type": "application/json"}
        )
        assert response.status_code == status, body
    forged = client.get("/api/staff/me", headers={b"cookie": "zy-staff=令牌🙂".encode()})
    assert forged.status_code == 401
    signed_in = sign_in(app, "zy2001")
    number = _submit(signed_in)
    odd_csrf = signed_in.post(
        f"/api/staff/applications/{number}/status",
        json={"status": "accepted"},
        headers={b"X-CSRF-Token": "令牌".encode()},
    )
    assert odd_csrf.status_code == 403


def test_a_locked_account_waits_even_with_the_right_password(app: TestClient, clock: Clock) -> None:
    add_account(app, "zy2002", "孙丽", "business")
    client = browser(app)
    for _ in range(5):
        client.post("/api/staff/login", json={"login": "zy2002", "password": "wrong-password-1"})
    locked = client.post("/api/staff/login", json={"login": "zy2002", "password": PASSWORD})
    assert locked.status_code == 429 and "账号已锁定" in _message(locked)
    assert locked.headers["retry-after"] == "300"
    clock.now += dt.timedelta(minutes=5)
    assert client.post("/api/staff/login", json={"login": "zy2002", "password": PASSWORD}).status_code == 200


def test_an_idle_session_ends_and_so_does_one_past_its_shift(app: TestClient, clock: Clock) -> None:
    idle = sign_in(app, "zy1001")
    clock.now += dt.timedelta(minutes=31)
    ended = idle.get("/api/staff/me")
    assert ended.status_code == 401 and _message(ended) == "登录已过期或已退出，请重新登录。"

    busy = sign_in(app, "zy1001")
    for _ in range(8 * 3):
        assert busy.get("/api/staff/me").status_code == 200
        clock.now += dt.timedelta(minutes=20)
    assert busy.get("/api/staff/me").status_code == 401


def test_logout_revokes_the_session_everywhere(app: TestClient) -> None:
    client = sign_in(app, "zy1001")
    copied = browser(app)
    copied.cookies.update(client.cookies)  # a stolen or second copy of the same cookie
    assert copied.get("/api/staff/me").status_code == 200
    assert client.post("/api/staff/logout").status_code == 204
    assert client.get("/api/staff/me").status_code == 401
    assert copied.get("/api/staff/me").status_code == 401
    assert ("zy1001", "zy1001", "ok") in _records(app, "staff.logout")


def test_not_signed_in_gets_401_in_chinese(app: TestClient) -> None:
    for method, path in (
        ("get", "/api/staff/desk/handoffs"),
        ("get", "/api/staff/audit"),
        ("post", "/api/staff/applications/ZW1/status"),
        ("post", "/api/staff/logout"),
    ):
        response = getattr(browser(app), method)(path)
        assert response.status_code == 401 and _message(response) == "请先登录。", path


def test_a_write_without_the_csrf_header_is_refused(app: TestClient) -> None:
    signed_in = sign_in(app, "zy2001")
    number = _submit(signed_in)
    replay = browser(app)
    replay.cookies.update(signed_in.cookies)  # what a forged cross-site form would carry at best
    for headers in ({}, {"X-CSRF-Token": "guessed"}):
        refused = replay.post(
            f"/api/staff/applications/{number}/status", json={"status": "accepted"}, headers=headers
        )
        assert refused.status_code == 403 and "X-CSRF-Token" in _message(refused)
    assert replay.post("/api/staff/logout").status_code == 403
    accepted = signed_in.post(f"/api/staff/applications/{number}/status", json={"status": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"


def test_the_handler_is_the_signed_in_account_whatever_the_body_says(app: TestClient) -> None:
    signed_in = sign_in(app, "zy2001")
    number = _submit(signed_in)
    moved = signed_in.post(
        f"/api/staff/applications/{number}/status", json={"status": "accepted", "handler": "王局长"}
    )
    assert [step["handler"] for step in moved.json()["timeline"]] == ["zy2001", "zy2001"]
    actors = {actor for actor, target, _ in _records(app, "application.status") if target == number}
    assert actors == {"zy2001"}


def test_a_role_that_may_not_gets_403_and_is_audited(app: TestClient) -> None:
    number = _submit(sign_in(app, "zy2001"))
    auditor = sign_in(app, "zy3001")
    refused = auditor.post(f"/api/staff/applications/{number}/status", json={"status": "accepted"})
    assert refused.status_code == 403 and _message(refused) == "此操作需要“业务”角色，您的账号没有该权限。"
    agent = sign_in(app, "zy1001")
    assert agent.post("/api/staff/complaints/TS1/status", json={"status": "closed"}).status_code == 403
    forbidden = _records(app, "staff.forbidden")
    assert ("zy3001", f"POST /api/staff/applications/{number}/status", "refused") in forbidden
    assert ("zy1001", "POST /api/staff/complaints/TS1/status", "refused") in forbidden


def test_the_admin_cannot_read_the_audit_log_and_the_auditor_can(app: TestClient) -> None:
    admin = sign_in(app, "zy9001")
    refused = admin.get("/api/staff/audit")
    assert refused.status_code == 403 and "“审计”角色" in _message(refused)
    assert admin.get("/api/staff/desk/handoffs").status_code == 403
    records = sign_in(app, "zy3001").get("/api/staff/audit", params={"action": "staff.forbidden"})
    assert records.status_code == 200
    seen = [(record["actor"], record["target"]) for record in records.json()]
    assert seen[:2] == [("zy9001", "GET /api/staff/desk/handoffs"), ("zy9001", "GET /api/staff/audit")]


def test_the_console_socket_wants_a_signed_in_agent(app: TestClient) -> None:
    def refusal(client: TestClient, **headers: str) -> tuple[int, str]:
        with (
            client.websocket_connect("/api/assist/ws", headers=headers) as ws,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            ws.receive_json()
        return closed.value.code, closed.value.reason

    assert refusal(browser(app)) == (1008, "请先登录。")
    assert refusal(sign_in(app, "zy2001")) == (1008, "此操作需要“坐席”角色，您的账号没有该权限。")
    assert ("zy2001", "WEBSOCKET /api/assist/ws", "refused") in _records(app, "staff.forbidden")
    agent = sign_in(app, "zy1001")
    assert refusal(agent, origin="https://evil.example") == (1008, "不接受来自其他网站的连接。")
    with agent.websocket_connect("/api/assist/ws", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json() == {"type": "ready"}
    agent.post("/api/staff/logout")
    assert refusal(agent)[0] == 1008


def test_signing_out_also_ends_an_open_console_socket(
    app: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "SESSION_CHECK_SECONDS", 0.0)  # check on every frame, not every 30 s
    agent = sign_in(app, "zy1001")
    with agent.websocket_connect("/api/assist/ws") as ws:
        assert ws.receive_json() == {"type": "ready"}
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        assert agent.post("/api/staff/logout").status_code == 204
        ws.send_json({"type": "ping"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert (closed.value.code, closed.value.reason) == (1008, "登录已过期或已退出，请重新登录。")
