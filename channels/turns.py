"""One resident turn on any channel: check, ask Rasa, fall back politely, log."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool

from channels.messages import Button, ChatResponse, OutgoingMessage
from channels.rasa_client import RasaClient, RasaUnavailable
from channels.throttle import SenderThrottle
from core.settings import GatewaySettings
from services.errors import DomainError
from services.facade import Services
from services.log_privacy import log_text, pseudonym

turn_log = logging.getLogger("zunyi.turns")
UNLOGGED_INTENTS = frozenset({"inform", "to_agent"})
_PUNCTUATION = re.compile(r"[\s，。！？!?,.、~～…]+")


# Said to stop waiting for (or talking to) a person and go back to the assistant.
LEAVE_AGENT = re.compile(
    r"^(我)?(要|想)?(结束|退出|取消|不要|不用|不需要|不等)(了)?(转)?人工(服务|了)?|"
    r"^(返回|回到)(机器人|智能助手|贵博士)|^不等了|^算了不等"
)


class TurnHandler:
    def __init__(self, rasa: RasaClient, settings: GatewaySettings, desk: Services | None = None) -> None:
        self._rasa = rasa
        self._settings = settings
        self._desk = desk
        # Shared by every gateway replica when Redis is configured.
        self._limiter = SenderThrottle(settings.turns_per_minute, settings.redis_url)

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
        if not await self._limiter.allow(sender_id):
            return self._reply("您发送得太快了，请稍等一分钟再试。")
        to_agent = await self._relay_to_agent(sender_id, text)
        if to_agent is not None:
            self._log(sender_id, channel, text, "to_agent", None, None, True, started)
            return to_agent
        turn_id = uuid.uuid4().hex  # the analytics turn id: ratings and complaints refer to it
        try:
            turn = await self._rasa.send(sender_id, text, {**metadata, "channel": channel}, turn_id=turn_id)
        except RasaUnavailable as error:
            turn_log.warning("rasa unavailable: %s", error)
            self._log(sender_id, channel, text, None, None, None, False, started)
            return self._reply(self.busy_text())
        self._log(
            sender_id,
            channel,
            text,
            turn.intent,
            turn.confidence,
            turn.service,
            bool(turn.messages),
            started,
            fallback=turn.fallback,
            turn_id=turn_id,
        )
        # No reply at all means an action failed inside Rasa (e.g. its action server died mid-turn):
        # the resident is told so, never left looking at silence.
        messages = turn.messages or [OutgoingMessage(text=self.busy_text())]
        return ChatResponse(
            messages=messages, intent=turn.intent, confidence=turn.confidence, turn_id=turn_id
        )

    async def _relay_to_agent(self, sender_id: str, text: str) -> ChatResponse | None:
        """While a handoff is open the resident's messages go to the person, not the bot: on the
        ticket while it waits in the queue, to the agent once one holds it. 结束人工 closes it."""
        if self._desk is None:
            return None
        try:
            if LEAVE_AGENT.match(_PUNCTUATION.sub("", text)):
                closed = await run_in_threadpool(self._desk.withdraw_handoff, sender_id)
                if closed is None:
                    return self._reply("现在没有在等人工服务，您可以直接问我办事的问题。")
                return self._reply(f"已结束人工服务（工单号 {closed.ticket}），您可以继续问我办事的问题。")
            waiting = await run_in_threadpool(self._desk.relay_to_agent, sender_id, text)
        except DomainError as error:
            turn_log.warning("handoff relay skipped: %s", error.message)
            return None
        if waiting is None:
            return None
        leave = "说“结束人工”可回到智能助手。"
        if waiting.position is None:  # an agent holds it
            return self._reply(f"已发给工作人员{waiting.handoff.agent or ''}，请稍候回复。（{leave}）")
        return ChatResponse(
            messages=[
                OutgoingMessage(
                    text=f"您的消息已记在人工服务工单 {waiting.handoff.ticket} 上，正在排队，{waiting.ahead}"
                    f"工作人员接入后会在这里回复您，不用重复发送。{waiting.hours.text}。{leave}",
                    buttons=[Button(title="结束人工", payload="结束人工")],
                    payload=waiting.card(),
                )
            ]
        )

    async def rasa_alive(self) -> bool:
        return await self._rasa.alive()

    def busy_text(self) -> str:
        return self._settings.busy_text()

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
        *,
        fallback: bool = False,
        turn_id: str | None = None,
    ) -> None:
        turn_log.info(
            json.dumps(
                {
                    "event": "turn",
                    "turn": turn_id,
                    "channel": channel,
                    "sender": pseudonym(sender_id),
                    # Form answers (names, ID tails, phones) and words for an agent stay out of logs.
                    "text": None if intent in UNLOGGED_INTENTS else log_text(text),
                    "intent": intent,
                    "confidence": None if confidence is None else round(confidence, 3),
                    "guide": service,
                    "answered": answered,
                    "fallback": fallback,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                },
                ensure_ascii=False,
            )
        )
