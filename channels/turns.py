"""One resident turn on any channel: check, ask Rasa, fall back politely, log."""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict, deque
from typing import Any

from channels.messages import ChatResponse, OutgoingMessage
from channels.rasa_client import RasaClient, RasaUnavailable
from core.settings import GatewaySettings
from services.identity import mask_text

turn_log = logging.getLogger("zunyi.turns")


class SenderRateLimiter:
    """Sliding one-minute window per sender, in this process."""

    def __init__(self, per_minute: int) -> None:
        self._per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, sender_id: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        window = self._seen[sender_id]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self._per_minute:
            return False
        window.append(now)
        return True


class TurnHandler:
    def __init__(self, rasa: RasaClient, settings: GatewaySettings) -> None:
        self._rasa = rasa
        self._settings = settings
        self._limiter = SenderRateLimiter(settings.turns_per_minute)

    def _reply(self, text: str) -> ChatResponse:
        return ChatResponse(messages=[OutgoingMessage(text=text)])

    async def handle(self, sender_id: str, text: str, channel: str, metadata: dict[str, Any]) -> ChatResponse:
        started = time.perf_counter()
        text = (text or "").strip()
        if not text:
            return self._reply("请输入您想咨询的事项，例如：“低保要带哪些材料”。")
        if len(text) > self._settings.max_text_chars:
            return self._reply(
                f"您的消息有点长，请精简到{self._settings.max_text_chars}字以内，或分几次发送。"
            )
        if not self._limiter.allow(sender_id):
            return self._reply("您发送得太快了，请稍等一分钟再试。")
        intent = confidence = service = None
        try:
            messages = await self._rasa.send(sender_id, text, {**metadata, "channel": channel})
            intent, confidence, service = await self._rasa.latest(sender_id)
            answered = bool(messages)
        except RasaUnavailable as error:
            turn_log.warning("rasa unavailable: %s", error)
            messages = [OutgoingMessage(text=self.busy_text())]
            answered = False
        self._log(sender_id, channel, text, intent, confidence, service, answered, started)
        return ChatResponse(messages=messages, intent=intent, confidence=confidence)

    async def rasa_alive(self) -> bool:
        return await self._rasa.alive()

    def busy_text(self) -> str:
        return f"系统繁忙，请稍后再试；急事请拨打政务服务热线 {self._settings.hotline}。"

    def _log(
        self,
        sender_id: str,
        channel: str,
        text: str,
        intent: str | None,
        confidence: float | None,
        service: str | None,
        answered: bool,
        started: float,
    ) -> None:
        turn_log.info(
            json.dumps(
                {
                    "event": "turn",
                    "channel": channel,
                    "sender": sender_id,
                    "text": mask_text(text),
                    "intent": intent,
                    "confidence": None if confidence is None else round(confidence, 3),
                    "guide": service,
                    "answered": answered,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                },
                ensure_ascii=False,
            )
        )
