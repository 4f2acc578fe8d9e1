"""The assist WebSocket: the operator sends what the caller says, the console gets suggestions.

Protocol (JSON text frames):
  → {"type": "auth", "token": "<staff token>"}      first frame, unless ?token= was given
  ← {"type": "ready"}                                 or close code 1008 for a missing/wrong token
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
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from channels.assist.suggest import Suggestion, retrieve, suggest
from channels.rasa_client import NluParse, RasaClient, RasaUnavailable
from core.settings import Settings

log = logging.getLogger("zunyi.assist")

AUTH_SECONDS = 10.0
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


def token_ok(settings: Settings, token: object) -> bool:
    expected = settings.gateway.staff_token.get_secret_value()
    return isinstance(token, str) and secrets.compare_digest(token.encode(), expected.encode())


@router.websocket("/api/assist/ws")
async def assist_socket(
    websocket: WebSocket, token: Annotated[str | None, Query(max_length=256)] = None
) -> None:
    settings: Settings = websocket.app.state.settings
    # Accept first, so that a refusal reaches the browser as close code 1008 and not as a bare 403.
    await websocket.accept()
    try:
        if not await _authenticate(websocket, settings, token):
            await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="需要工作人员凭证")
            return
        await websocket.send_json({"type": "ready"})
        await AssistSession(websocket, websocket.app.state.assist_rasa, settings).run()
    except WebSocketDisconnect:
        return


async def _authenticate(websocket: WebSocket, settings: Settings, token: str | None) -> bool:
    if token is not None:
        return token_ok(settings, token)
    try:
        first = await asyncio.wait_for(websocket.receive_text(), AUTH_SECONDS)
        message = json.loads(first)
    except (TimeoutError, ValueError, KeyError):
        return False
    return (
        isinstance(message, dict)
        and message.get("type") == "auth"
        and token_ok(settings, message.get("token"))
    )


class AssistSession:
    def __init__(self, websocket: WebSocket, rasa: RasaClient, settings: Settings) -> None:
        self._socket = websocket
        self._rasa = rasa
        self._max_chars = settings.gateway.max_text_chars
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
                await self._on_frame(frame.get("text"))
        finally:
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker

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
