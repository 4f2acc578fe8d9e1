"""The gateway on its own: input checks, search, staff auth, and behaviour when Rasa is down."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channels.app import create_app
from core.settings import GatewaySettings, ServicesSettings, Settings, get_settings


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    base = get_settings()
    directory: Path = tmp_path_factory.mktemp("gateway")
    dead = f"http://127.0.0.1:{_dead_port()}"
    settings = base.model_copy(
        update={
            "gateway": GatewaySettings(
                **{
                    **base.gateway.model_dump(),
                    "rasa_url": dead,
                    "action_server_url": dead,
                    "rasa_timeout_seconds": 1,
                }
            ),
            "services": ServicesSettings(
                **{**base.services.model_dump(), "database_url": f"sqlite:///{directory / 's.db'}"}
            ),
        }
    )
    assert isinstance(settings, Settings)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _chat(client: TestClient, text: str, sender: str = "web:abc123", channel: str = "web") -> dict:
    response = client.post("/api/chat", json={"sender_id": sender, "text": text, "channel": channel})
    assert response.status_code == 200, response.text
    return response.json()


def test_rasa_down_gives_a_polite_busy_reply_with_the_hotline(client: TestClient) -> None:
    reply = _chat(client, "低保要带哪些材料")
    assert "系统繁忙" in reply["messages"][0]["text"] and "12345" in reply["messages"][0]["text"]


def test_readyz_names_the_parts_that_are_down(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks == {"rasa": False, "action_server": False, "database": True, "index": True}
    assert client.get("/healthz").json() == {"status": "ok"}


def test_empty_and_overlong_messages_get_a_polite_chinese_reply(client: TestClient) -> None:
    assert "请输入" in _chat(client, "   ")["messages"][0]["text"]
    assert "精简" in _chat(client, "办" * 600)["messages"][0]["text"]


@pytest.mark.parametrize(
    "body",
    [
        {"sender_id": "wechat:o123", "text": "你好", "channel": "web"},
        {"sender_id": "wechat:o123", "text": "你好", "channel": "wechat"},
        {"sender_id": "web:../../etc", "text": "你好", "channel": "web"},
        {"sender_id": "web:x", "text": "你好", "channel": "WEB!"},
    ],
)
def test_a_channel_cannot_speak_for_another(client: TestClient, body: dict) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 422


def test_oversized_and_malformed_bodies_are_refused(client: TestClient) -> None:
    huge = '{"sender_id": "web:a", "channel": "web", "text": "' + "好" * 40_000 + '"}'
    assert (
        client.post(
            "/api/chat", content=huge.encode(), headers={"content-type": "application/json"}
        ).status_code
        == 413
    )
    bad = client.post("/api/chat", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 422


def test_search_endpoint(client: TestClient) -> None:
    result = client.get("/api/search", params={"q": "老年证在哪点办", "k": 2}).json()
    assert result["results"][0]["title"] == "老年人优待证办理"
    assert client.get("/api/search", params={"q": " "}).status_code == 422
    assert client.get("/api/search", params={"q": "x" * 501}).status_code == 422


def test_staff_api_needs_a_signed_in_account(client: TestClient) -> None:
    assert client.get("/api/staff/audit").status_code == 401
    # The shared staff token is gone: a bearer token of any kind signs nobody in.
    bearer = client.get("/api/staff/audit", headers={"Authorization": "Bearer dev-staff-token"})
    assert bearer.status_code == 401 and bearer.json()["detail"]["message"] == "请先登录。"


def test_public_services_api_is_mounted(client: TestClient) -> None:
    halls = client.get("/api/services/halls").json()
    assert isinstance(halls, list)


def test_only_allowed_pages_may_call_the_api_from_a_browser(client: TestClient) -> None:
    allowed = client.options(
        "/api/chat", headers={"Origin": "http://127.0.0.1:8000", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.headers.get("access-control-allow-origin") == "http://127.0.0.1:8000"
    foreign = client.options(
        "/api/chat", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in foreign.headers


def test_the_browser_favicon_request_is_not_an_error(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 204 and not response.content
