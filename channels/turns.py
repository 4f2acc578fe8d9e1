"""One resident turn on any channel: check, ask Rasa, fall back politely, log."""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict, deque
from typing import Any

from starlette.concurrency import run_in_threadpool

from channels.messages import ChatResponse, OutgoingMessage
from channels.rasa_client import RasaClient, RasaUnavailable
from core.settings import GatewaySettings
from services.errors import DomainError
from services.facade import Services
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


# Said to leave a conversation an agent has taken, and go back to the assistant.
LEAVE_AGENT_WORDS = frozenset({"结束人工", "退出人工", "返回机器人", "不要人工了"})


class TurnHandler:
    def __init__(self, rasa: RasaClient, settings: GatewaySettings, desk: Services | None = None) -> None:
        self._rasa = rasa
        self._settings = settings
        self._desk = desk
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
        to_agent = await self._relay_to_agent(sender_id, text)
        if to_agent is not None:
            self._log(sender_id, channel, text, "to_agent", None, None, True, started)
            return to_agent
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

    async def _relay_to_agent(self, sender_id: str, text: str) -> ChatResponse | None:
        """The resident's message goes to the agent who holds the conversation, if one does."""
        if self._desk is None:
            return None
        try:
            handoff = await run_in_threadpool(self._desk.relay_to_agent, sender_id, text)
            if handoff is None:
                return None
            if text in LEAVE_AGENT_WORDS:
                await run_in_threadpool(self._desk.close_handoff, handoff.ticket, agent=sender_id)
                return self._reply("已结束人工服务，您可以继续问我办事的问题。")
        except DomainError as error:
            turn_log.warning("handoff relay skipped: %s", error.message)
            return None
        return self._reply(f"已发给工作人员{handoff.agent or ''}，请稍候回复。（说“结束人工”可回到智能助手）")

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
