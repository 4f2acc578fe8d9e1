"""Test doubles for the WeChat channel: a fake WeChat API, a canned dialogue layer, a resident.

Requests are built and replies read with wechatpy itself, as WeChat's servers would.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import uvicorn
import xmltodict
from fastapi import FastAPI, Request
from pydantic import SecretStr
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from channels.app import create_app
from channels.messages import Button, ChatResponse, OutgoingMessage, Source
from channels.wechat.protocol import sign
from core.settings import GatewaySettings, ServicesSettings, Settings, WeChatSettings

TOKEN = "test-wechat-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them
APP_ID = "wx1234567890abcdef"
APP_SECRET = "test-app-secret"
ACCOUNT = "gh_zunyi_test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class FakeWeChatAPI:
    """Serves /cgi-bin/token and records customer-service sends, token fetches and menus."""

    token_fetches: list[dict[str, str]] = field(default_factory=list)
    sends: list[dict[str, Any]] = field(default_factory=list)
    menus: list[dict[str, Any]] = field(default_factory=list)
    fail_sends: int = 0  # answer this many sends with a system error first
    expired_tokens: set[str] = field(default_factory=set)  # sends with these get 42001
    send_seconds: float = 0.0  # how long WeChat takes to accept a send
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.get("/cgi-bin/token")
        async def token(request: Request) -> dict[str, Any]:
            params = dict(request.query_params)
            if params.get("appid") != APP_ID or params.get("secret") != APP_SECRET:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            # Slow enough that concurrent refreshers would overlap if they were not serialised.
            await asyncio.sleep(0.2)
            with self.lock:
                self.token_fetches.append(params)
                return {"access_token": f"TOKEN-{len(self.token_fetches)}", "expires_in": 7200}

        @api.post("/cgi-bin/message/custom/send")
        async def send(request: Request) -> dict[str, Any]:
            received_at = time.monotonic()
            body = await request.json()
            with self.lock:
                if request.query_params.get("access_token") in self.expired_tokens:
                    return {"errcode": 42001, "errmsg": "access_token expired"}
                if self.fail_sends > 0:
                    self.fail_sends -= 1
                    return {"errcode": -1, "errmsg": "system error"}
                send = {"access_token": request.query_params.get("access_token"), **body}
                self.sends.append(send | {"received_at": received_at})
                accepted = len(self.sends) - 1
            await asyncio.sleep(self.send_seconds)
            with self.lock:
                self.sends[accepted]["accepted_at"] = time.monotonic()
            return {"errcode": 0, "errmsg": "ok"}

        @api.post("/cgi-bin/menu/create")
        async def menu(request: Request) -> dict[str, Any]:
            self.menus.append(
                {"access_token": request.query_params.get("access_token"), **await request.json()}
            )
            return {"errcode": 0, "errmsg": "ok"}

        return api

    def texts_to(self, openid: str) -> list[str]:
        return [s["text"]["content"] for s in self.sends_to(openid)]

    def sends_to(self, openid: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(s) for s in self.sends if s["touser"] == openid]

    def settled_texts_to(
        self,
        openid: str,
        count: int = 1,
        done: Callable[[list[str]], bool] | None = None,
        quiet: float = 0.8,
        timeout: float = 15.0,
    ) -> list[str]:
        """The texts sent to ``openid`` once ``done`` holds for them (or, without ``done``, once at
        least ``count`` arrived), and then none followed for ``quiet`` seconds."""
        finished = done or (lambda texts: len(texts) >= count)
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            texts = self.texts_to(openid)
            if len(texts) != seen:
                seen, since = len(texts), time.monotonic()
            elif finished(texts) and time.monotonic() - since >= quiet:
                break
            time.sleep(0.02)
        return self.texts_to(openid)

    def wait_for_sends(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sends) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.sends)


SLOW = "慢问题"
WITH_BUTTONS = "有选项"
LONG = "长回答"
BROKEN = "出错"
GUIDE = "医保交好多钱"
LONG_WITH_OPTIONS = "长回答带选项"
SLOTS = "明天有哪些时段"
AGE = "核对条件"

GUIDE_NAME = "城乡居民基本医疗保险参保缴费"
SAMPLE_NOTICE = "示例数据，以贵州政务服务网公布为准"
# 08:30–12:00 and 13:00–17:00 in half hours: 15 slots, the afternoon ones last.
SLOT_STARTS = ["08:30", *(f"{h:02d}:{m:02d}" for h in (9, 10, 11, 13, 14, 15, 16) for m in (0, 30))]


def guide_answer(body: str) -> OutgoingMessage:
    """A guide answer as the answering core sends it: a citation in the text and the same source
    in the card, plus the next steps."""
    citation = f"来源：《{GUIDE_NAME}》办事指南 · 遵义市医疗保障局 · 更新于2025年10月15日（{SAMPLE_NOTICE}）"
    return OutgoingMessage(
        text=f"{body}\n{citation}",
        buttons=[
            Button(title="预约办理", payload=f'/book_appointment{{"service": "{GUIDE_NAME}"}}'),
            Button(title="全部材料", payload=f'/ask_materials{{"service": "{GUIDE_NAME}"}}'),
            Button(title="我符合条件吗", payload=f'/ask_eligibility{{"service": "{GUIDE_NAME}"}}'),
        ],
        payload={"type": "guide_card", "service": GUIDE_NAME},
        sources=[
            Source(
                title=GUIDE_NAME,
                section="收费标准",
                department="遵义市医疗保障局",
                updated="2025-10-15",
                notice=SAMPLE_NOTICE,
                url="https://zwfw.guizhou.gov.cn/",
            )
        ],
    )


GUIDE_BODY = (
    f"「{GUIDE_NAME}」：2026年度个人缴费标准为400元/人/年（示例），财政另给予补助。"
    "集中缴费期为2025年9月1日—2025年12月31日（示例），在集中缴费期内缴费的，2026年1月1日起享受医保待遇。"
    "首次参保需先做参保登记，之后每年直接缴费即可，由税务部门征收。可在“贵州税务”APP、微信“贵州医保”"
    "小程序或村（社区）代收点缴费。"
)


@dataclass
class CannedTurns:
    """Stands in for channels.turns.TurnHandler while the dialogue layer is built elsewhere."""

    slow_seconds: float = 2.0
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    async def handle(self, sender_id: str, text: str, channel: str, metadata: dict[str, Any]) -> ChatResponse:
        self.calls.append((sender_id, text, channel))
        if text == SLOW:
            await asyncio.sleep(self.slow_seconds)
            return reply(f"慢答：{text}")
        if text == WITH_BUTTONS:
            return ChatResponse(
                messages=[
                    OutgoingMessage(
                        text="请选择您要办理的业务：",
                        buttons=[
                            Button(title="预约办理", payload='/book_appointment{"service":"低保申请"}'),
                            Button(title="查看材料", payload="低保申请要带哪些材料"),
                        ],
                        sources=[Source(title="最低生活保障申请", updated="2024-05-01", notice="示例数据")],
                    )
                ]
            )
        if text == LONG:
            return reply(
                "\n".join(f"第{n}条：办理低保需要提交身份证、户口簿和收入证明等材料。" for n in range(200))
            )
        if text == BROKEN:
            raise RuntimeError("dialogue layer exploded")
        if text == GUIDE:
            return ChatResponse(messages=[guide_answer(GUIDE_BODY)])
        if text == LONG_WITH_OPTIONS:
            lines = [
                f"{n}. 第{n}项材料：居民身份证或户口簿原件，复印件一份，可用电子证照。" for n in range(1, 41)
            ]
            return ChatResponse(messages=[guide_answer("\n".join(lines))])
        if text == SLOTS:
            buttons = [
                Button(title=f"{start}（剩3个）", payload=f'/inform{{"time": "{start}"}}')
                for start in SLOT_STARTS
            ]
            return ChatResponse(
                messages=[OutgoingMessage(text="明天还有这些时段可约，请选择：", buttons=buttons)]
            )
        if text == AGE:
            return ChatResponse(
                messages=[
                    OutgoingMessage(
                        text="请问申请人今年多大年纪（周岁）？",
                        buttons=[Button(title="不清楚", payload="不清楚")],
                    )
                ]
            )
        return reply(f"答：{text}")

    def texts(self) -> list[str]:
        return [text for _, text, _ in self.calls]


def reply(text: str) -> ChatResponse:
    return ChatResponse(messages=[OutgoingMessage(text=text)])


def assert_within_budget(parts: Sequence[str], wechat: WeChatSettings) -> None:
    """Every part of an answer is non-empty and fits the configured passive-reply budget."""
    sizes = [len(part.encode("utf-8")) for part in parts]
    assert sizes, "no parts at all"
    assert all(0 < size <= wechat.reply_max_bytes for size in sizes), (
        f"part sizes {sizes} (UTF-8 bytes) against a budget of {wechat.reply_max_bytes}"
    )


class Resident:
    """WeChat's servers, delivering one resident's messages to the gateway."""

    def __init__(self, base_url: str, openid: str, mode: str = "plain", token: str = TOKEN) -> None:
        self.base_url = base_url
        self.openid = openid
        self.mode = mode  # plain | compatible | safe
        self.token = token
        self.crypto = WeChatCrypto(token, AES_KEY, APP_ID)
        self._msg_id = int(time.time() * 1000) * 1000 + (hash(openid) % 1000)

    def next_id(self) -> int:
        self._msg_id += 1
        return self._msg_id

    def text_xml(self, content: str, msg_id: int | None = None) -> str:
        return self.xml("text", f"<Content><![CDATA[{content}]]></Content>", msg_id or self.next_id())

    def xml(self, msg_type: str, fields: str, msg_id: int | None = None, created: int | None = None) -> str:
        msg = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
        return (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>"
            f"<CreateTime>{created or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[{msg_type}]]></MsgType>{fields}{msg}</xml>"
        )

    def event_xml(self, event: str, key: str | None = None, created: int | None = None) -> str:
        fields = f"<Event><![CDATA[{event}]]></Event>"
        if key is not None:
            fields += f"<EventKey><![CDATA[{key}]]></EventKey>"
        return self.xml("event", fields, created=created)

    def signed(self, xml: str | bytes, timestamp: int | None = None) -> tuple[dict[str, str], bytes]:
        """Query and body as WeChat sends them in this resident's mode."""
        ts, nonce = str(timestamp or int(time.time())), f"n{self.next_id()}"
        params = {
            "signature": sign(self.token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "openid": self.openid,
        }
        body = xml.encode("utf-8") if isinstance(xml, str) else xml
        if self.mode == "plain":
            return params, body
        envelope = self.crypto.encrypt_message(body.decode("utf-8"), nonce, ts)
        parsed = parse_envelope(envelope)
        params |= {"encrypt_type": "aes", "msg_signature": parsed["MsgSignature"]}
        if self.mode == "safe":
            body = (
                f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{parsed['Encrypt']}]]></Encrypt></xml>".encode()
            )
        else:  # compatible: the plaintext fields and the ciphertext side by side
            body = body.replace(
                b"</xml>", f"<Encrypt><![CDATA[{parsed['Encrypt']}]]></Encrypt></xml>".encode()
            )
        return params, body

    def post(self, xml: str | bytes, **kwargs: Any) -> httpx.Response:
        params, body = self.signed(xml, kwargs.pop("timestamp", None))
        params |= kwargs.pop("params", {})
        return httpx.post(f"{self.base_url}/wechat", params=params, content=body, timeout=15, **kwargs)

    async def apost(self, client: httpx.AsyncClient, xml: str) -> httpx.Response:
        params, body = self.signed(xml)
        return await client.post(f"{self.base_url}/wechat", params=params, content=body, timeout=15)

    def read(self, response: httpx.Response) -> str | None:
        """The passive reply's text (decrypted in compatible and safe mode); None for "success"."""
        assert response.status_code == 200, response.text
        if response.text == "success":
            return None
        xml = response.text
        if self.mode != "plain":
            envelope = parse_envelope(xml)
            xml = self.crypto.decrypt_message(
                xml, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
            )
        message = parse_message(xml)
        assert message.type == "text"
        assert message.target == self.openid and message.source == ACCOUNT
        return str(message.content)

    def ask(self, content: str) -> str | None:
        return self.read(self.post(self.text_xml(content)))


def parse_envelope(xml: str) -> dict[str, str]:
    return dict(xmltodict.parse(xml)["xml"])


def make_settings(
    workdir: Path, api_url: str, gateway: dict[str, Any] | None = None, **wechat: Any
) -> Settings:
    """Test settings: a scratch database, no Rasa, the fake WeChat API, a 1-second reply deadline."""
    return Settings(
        environment="test",
        services=ServicesSettings(database_url=f"sqlite:///{workdir / 'services.db'}"),
        gateway=GatewaySettings(
            rasa_url=f"http://127.0.0.1:{free_port()}", rasa_timeout_seconds=1, **(gateway or {})
        ),
        wechat=WeChatSettings(
            token=SecretStr(TOKEN),
            encoding_aes_key=SecretStr(AES_KEY),
            app_id=APP_ID,
            app_secret=SecretStr(APP_SECRET),
            api_base_url=api_url,
            **{
                "reply_deadline_seconds": 1.0,
                "send_backoff_seconds": 0.05,
                "failed_sends_file": workdir / "failed-sends.jsonl",
                **wechat,
            },
        ),
    )


@dataclass
class Gateway:
    url: str
    app: FastAPI


@contextmanager
def run_gateway(settings: Settings, turns: Any | None) -> Iterator[Gateway]:
    """The real gateway under uvicorn; ``turns`` replaces the TurnHandler (None keeps the real one)."""
    app = create_app(settings)
    with serve(app) as url:
        if turns is not None:
            app.state.turns = turns
        yield Gateway(url, app)


REDIS_URL = os.environ.get("ZY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> str:
    """The test Redis (database 15); skipped when unreachable unless ZY_REQUIRE_REDIS=1."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        if os.environ.get("ZY_REQUIRE_REDIS") == "1":
            raise
        pytest.skip(f"Redis at {REDIS_URL} unreachable: {error}")
    return REDIS_URL


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key namespace of one test; its keys, and only those, are deleted afterwards."""
    prefix = f"test-wechat-{uuid.uuid4().hex[:12]}:"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
