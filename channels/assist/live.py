"""The assist WebSocket: the operator sends what the caller says, the console gets suggestions.

The socket is the signed-in console's: the session cookie (channels/staff_auth.py) must belong to
an account with role 坐席 (agent), else the socket closes with code 1008 and a Chinese reason (a
forbidden account is audited). The session is checked again every half minute while the socket is
open, so a logout or an expired session also ends it.

Protocol (JSON text frames):
  ← {"type": "ready"}                                 once the session is accepted
  → {"type": "utterance", "id": 7, "text": "新农合交好多钱"}
  ← {"type": "suggestion", "id": 7, ...}              see channels.assist.suggest.Suggestion
  ← {"type": "error", "id": 7, "message": "…"}
  → {"type": "ping"}  ← {"type": "pong"}

Operators type fast: only the newest utterance is answered. One that arrives while another is
being worked on replaces any still waiting, and a result is dropped when a newer utterance came
in meanwhile; every answer carries the utterance's id so the console can ignore stale ones too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from channels.assist.suggest import Suggestion, retrieve, suggest
from channels.rasa_client import NluParse, RasaClient, RasaUnavailable
from channels.staff_auth import (
    NOT_SIGNED_IN,
    SESSION_ENDED,
    forbidden_message,
    get_directory,
    refuse_role,
    session_token,
)
from core.settings import Settings
from services.models import StaffRole

log = logging.getLogger("zunyi.assist")

ROLES = (StaffRole.agent,)
SESSION_CHECK_SECONDS = 30.0
# A suggestion is useful only while the caller is still on the line: NLU that is slower than this
# is skipped and the console shows retrieval alone.
PARSE_SECONDS = 2.0
NLU_DOWN = "语义解析暂不可用（Rasa 未响应），以下仅为检索结果。"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs inside the app's own lifespan, after it has put the settings on app.state.
    gateway = app.state.settings.gateway
    token = gateway.rasa_token.get_secret_value() if gateway.rasa_token else None
    rasa = RasaClient(gateway.rasa_url, timeout=min(PARSE_SECONDS, gateway.rasa_timeout_seconds), token=token)
    app.state.assist_rasa = rasa
    yield
    await rasa.close()


router = APIRouter(tags=["坐席辅助"], lifespan=lifespan)


@router.websocket("/api/assist/ws")
async def assist_socket(websocket: WebSocket) -> None:
    settings: Settings = websocket.app.state.settings
    # Accept first, so that a refusal reaches the browser as close code 1008 and not as a bare 403.
    await websocket.accept()
    try:
        refusal = await _refusal(websocket)
        if refusal:
            await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=refusal)
            return
        await websocket.send_json({"type": "ready"})
        await AssistSession(websocket, websocket.app.state.assist_rasa, settings).run()
    except WebSocketDisconnect:
        return


def _foreign_origin(websocket: WebSocket) -> bool:
    """A page of another site opening the socket (cross-site WebSocket hijacking): browsers always
    send Origin on a WebSocket handshake; the port may differ behind a proxy."""
    origin = websocket.headers.get("origin")
    host = urlsplit(f"//{websocket.headers.get('host', '')}").hostname
    return origin is not None and urlsplit(origin).hostname != host


async def _refusal(websocket: WebSocket) -> str | None:
    """Why this socket may not be served, or None for a signed-in agent."""
    if _foreign_origin(websocket):
        return "不接受来自其他网站的连接。"
    token = session_token(websocket)
    if token is None:
        return NOT_SIGNED_IN
    directory = get_directory(websocket)
    current = await run_in_threadpool(directory.resolve, token)
    if current is None:
        return SESSION_ENDED
    if not current.member.has_any(ROLES):
        await refuse_role(directory, current, "WEBSOCKET /api/assist/ws")
        return forbidden_message(ROLES)
    return None


class AssistSession:
    def __init__(self, websocket: WebSocket, rasa: RasaClient, settings: Settings) -> None:
        self._socket = websocket
        self._rasa = rasa
        self._max_chars = settings.gateway.max_text_chars
        self._checked_at = time.monotonic()
        self._latest: tuple[int, str] | None = None
        self._wake = asyncio.Event()
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        worker = asyncio.create_task(self._work())
        try:
            while True:
                frame = await self._socket.receive()
                if frame["type"] == "websocket.disconnect":
                    return
                if not await self._still_signed_in():
                    await self._socket.close(code=status.WS_1008_POLICY_VIOLATION, reason=SESSION_ENDED)
                    return
                await self._on_frame(frame.get("text"))
        finally:
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker

    async def _still_signed_in(self) -> bool:
        if time.monotonic() - self._checked_at < SESSION_CHECK_SECONDS:
            return True
        self._checked_at = time.monotonic()
        token = session_token(self._socket)
        directory = get_directory(self._socket)
        return token is not None and await run_in_threadpool(directory.resolve, token) is not None

    async def _on_frame(self, raw: str | None) -> None:
        try:
            message = json.loads(raw) if raw is not None else None
        except ValueError:
            message = None
        if not isinstance(message, dict):
            await self._send({"type": "error", "id": None, "message": "消息应为 JSON 对象。"})
            return
        kind = message.get("type")
        if kind == "ping":
            await self._send({"type": "pong"})
            return
        if kind != "utterance":
            await self._send({"type": "error", "id": None, "message": f"不认识的消息类型：{kind!r}"})
            return
        utterance_id, text = message.get("id"), message.get("text")
        if isinstance(utterance_id, bool) or not isinstance(utterance_id, int) or not isinstance(text, str):
            await self._send({"type": "error", "id": None, "message": "utterance 需要整数 id 和文本 text。"})
            return
        text = text.strip()
        if not text or len(text) > self._max_chars:
            problem = "请输入来电人的问题。" if not text else f"内容过长，请精简到{self._max_chars}字以内。"
            await self._send({"type": "error", "id": utterance_id, "message": problem})
            return
        self._latest = (utterance_id, text)
        self._wake.set()

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._latest is None:
                continue
            utterance_id, text = self._latest
            self._latest = None
            try:
                suggestion = await self._suggest(utterance_id, text)
            except Exception:  # one failed suggestion must not end the operator's session
                log.exception("assist suggestion failed")
                await self._send(
                    {"type": "error", "id": utterance_id, "message": "检索暂不可用，请稍后再试。"}
                )
                continue
            if self._latest is None:  # else a newer utterance is waiting: answer that one instead
                await self._send(suggestion.model_dump(mode="json"))

    async def _suggest(self, utterance_id: int, text: str) -> Suggestion:
        parsing = asyncio.create_task(self._parse(text))
        result = await run_in_threadpool(retrieve, text)
        nlu, nlu_error = await parsing
        return await run_in_threadpool(suggest, utterance_id, text, result, nlu, nlu_error)

    async def _parse(self, text: str) -> tuple[NluParse | None, str | None]:
        try:
            return await self._rasa.parse(text, timeout=PARSE_SECONDS), None
        except RasaUnavailable as error:
            log.warning("assist NLU unavailable: %s", error)
            return None, NLU_DOWN

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self._socket.send_json(message)
