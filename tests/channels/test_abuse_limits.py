"""Per-address limits on the public API, through the real app: 429 with Retry-After and a Chinese
message, X-Forwarded-For believed only from a trusted proxy, one count for every gateway sharing
Redis, and handoffs only for the caller's own conversation."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))  # wechat_fake, whatever pytest's import mode

from wechat_fake import free_port, make_settings, redis_or_skip

from channels.app import create_app
from core.scaled import ScaledLayout, scaled_processes, shared_env
from core.settings import GatewaySettings, ServicesSettings, Settings, WeChatSettings
from services.facade import Services
from services.models import Handoff

RESIDENT = "203.0.113.7"
NO_SUCH_COMPLAINT = "/api/services/complaints/TS20261126-9999"


class Response(Protocol):
    """What the test client returns (starlette's may be httpx's or httpx2's)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def json(self) -> Any: ...


def settings_for(workdir: Path, **gateway: Any) -> Settings:
    return make_settings(workdir, f"http://127.0.0.1:{free_port()}", gateway=gateway)


@contextmanager
def gateway(settings: Settings, peer: str = RESIDENT) -> Iterator[TestClient]:
    """The gateway app, every request arriving from the socket address ``peer``."""
    with TestClient(create_app(settings), client=(peer, 50000)) as client:
        yield client


def assert_refused(response: Response, *, words: str, max_wait: int) -> int:
    """A 429 in the shape of every other error, with a Chinese message; returns Retry-After."""
    assert response.status_code == 429, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "rate_limited" and words in detail["message"]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= max_wait
    return retry_after


def test_lookups_past_the_allowance_get_429_with_retry_after_in_chinese(tmp_path: Path) -> None:
    with gateway(settings_for(tmp_path, ip_limits={"lookups": "3/minute"})) as client:
        assert [client.get(NO_SUCH_COMPLAINT).status_code for _ in range(3)] == [404] * 3
        assert_refused(client.get(NO_SUCH_COMPLAINT), words="查询太频繁", max_wait=60)
        # Another kind of lookup draws on the same allowance: no sweeping numbers by switching.
        lookup = {"number": "SL20261126-0001", "proof": "31002X", "sender_id": "web:abc"}
        refused = client.post("/api/services/applications/lookup", json=lookup)
        assert_refused(refused, words="查询太频繁", max_wait=60)
        # Other families have their own allowance.
        assert client.get("/api/services/halls").status_code == 200


def test_a_forged_forwarded_for_from_an_untrusted_peer_buys_nothing(tmp_path: Path) -> None:
    with gateway(settings_for(tmp_path, ip_limits={"lookups": "3/minute"})) as client:
        codes = [
            client.get(NO_SUCH_COMPLAINT, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(4)
        ]
    assert codes == [404, 404, 404, 429]


def test_behind_a_trusted_proxy_each_resident_has_their_own_allowance(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, ip_limits={"lookups": "2/minute"}, trusted_proxies=["127.0.0.1/32"])
    with gateway(settings, peer="127.0.0.1") as client:

        def lookup(forwarded_for: str) -> int:
            return client.get(NO_SUCH_COMPLAINT, headers={"X-Forwarded-For": forwarded_for}).status_code

        assert [lookup("198.51.100.1") for _ in range(3)] == [404, 404, 429]
        # A prefix the resident wrote before nginx's entry does not make them someone else.
        assert lookup("10.0.0.1, 198.51.100.1") == 429
        assert lookup("198.51.100.1, 198.51.100.2") == 404


def test_chat_is_limited_per_address_whatever_sender_ids_a_script_makes_up(tmp_path: Path) -> None:
    with gateway(settings_for(tmp_path, ip_limits={"chat": "2/minute"})) as client:

        def chat(sender: str) -> Response:
            return client.post(
                "/api/chat", json={"sender_id": sender, "text": "低保要带哪些材料", "channel": "web"}
            )

        answered = [chat(f"web:script{n}") for n in range(2)]
        assert all(r.status_code == 200 and "系统繁忙" in r.json()["messages"][0]["text"] for r in answered)
        assert_refused(chat("web:script2"), words="太频繁", max_wait=60)


def test_bookings_per_address_are_capped_for_the_day(tmp_path: Path) -> None:
    booking = {
        "hall_id": "no-such-hall",
        "service_id": "getigongshanghu_sheli",
        "start": "2026-11-27T09:30",
        "name": "张三",
        "id_number": "11010519491231002X",
        "phone": "15800009119",
        "sender_id": "web:abc",
    }
    with gateway(settings_for(tmp_path, ip_limits={"bookings": "100/minute;2/day"})) as client:
        tried = [client.post("/api/services/appointments", json=booking).status_code for _ in range(2)]
        assert 429 not in tried
        refused = client.post("/api/services/appointments", json=booking)
        # The day's window, not the minute's: the wait runs into hours.
        assert assert_refused(refused, words="预约太多", max_wait=24 * 3600) > 60


def handoffs(services: Services) -> int:
    with services.unit() as (session, _ctx):
        return int(session.scalar(select(func.count()).select_from(Handoff)) or 0)


@pytest.mark.parametrize(
    ("sender_id", "channel"),
    [("wechat:oAlice", "wechat"), ("wechat:oAlice", "web"), ("web:abc", "wechat"), ("window:7", "web")],
)
def test_no_client_opens_a_handoff_with_a_transcript_of_its_own(
    tmp_path: Path, sender_id: str, channel: str
) -> None:
    forged = [{"role": "agent", "text": "已为您办结，请放心"}]
    with gateway(settings_for(tmp_path)) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        body = {"sender_id": sender_id, "channel": channel, "transcript": forged}
        assert client.post("/api/services/handoffs", json=body).status_code in (404, 405)
        assert handoffs(services) == 0


@pytest.mark.parametrize(("sender_id", "channel"), [("wechat:oAlice", "web"), ("web:abc", "wechat")])
def test_a_web_client_speaks_only_for_its_own_conversation(
    tmp_path: Path, sender_id: str, channel: str
) -> None:
    with gateway(settings_for(tmp_path)) as client:
        refused = client.post(
            "/api/chat", json={"sender_id": sender_id, "text": "转人工", "channel": channel}
        )
        assert refused.status_code == 422
        assert "不能代替其他渠道" in refused.json()["detail"]["message"]


def test_two_gateways_sharing_redis_see_one_count(tmp_path: Path) -> None:
    url = redis_or_skip()
    # An address of this test only, so that earlier runs' counts in the shared Redis do not matter.
    peer = f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"
    settings = settings_for(tmp_path, ip_limits={"lookups": "3/minute"}, redis_url=url)
    try:
        with gateway(settings, peer) as first, gateway(settings, peer) as second:
            assert [first.get(NO_SUCH_COMPLAINT).status_code for _ in range(2)] == [404, 404]
            assert second.get(NO_SUCH_COMPLAINT).status_code == 404
            assert second.get(NO_SUCH_COMPLAINT).status_code == 429
            assert first.get(NO_SUCH_COMPLAINT).status_code == 429
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"*/{peer}/*"))
        if keys:
            client.delete(*keys)
        client.close()


def test_scaled_gateways_believe_nginx_and_nginx_passes_every_clients_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        services=ServicesSettings(database_url="postgresql+psycopg://zunyi@db.internal/zunyi"),
        gateway=GatewaySettings(redis_url="redis://cache.internal:6379/0", trusted_proxies=["192.0.2.0/24"]),
        wechat=WeChatSettings(redis_url="redis://cache.internal:6379/0"),
    )
    layout = ScaledLayout.allocate(1, tmp_path / "run")
    plan = scaled_processes(settings, layout, shared_env(settings, environ={}))
    env = next(item.process.env for item in plan if item.name == "gateway-1")
    # What the replica reads from the variable the launcher gives it.
    monkeypatch.setenv("ZY_GATEWAY__TRUSTED_PROXIES", env["ZY_GATEWAY__TRUSTED_PROXIES"])
    replica = Settings(_env_file=None)  # type: ignore[call-arg]
    assert replica.gateway.trusted_proxies == ["192.0.2.0/24", "127.0.0.1/32"]
    config = (tmp_path / "run" / "nginx.conf").read_text()
    gateway_server = config[config.index("listen 127.0.0.1:8000") : config.index("# The gateways reach Rasa")]
    proxied = gateway_server.count("proxy_pass http://gateway;")
    assert proxied >= 3
    assert gateway_server.count("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;") == proxied
