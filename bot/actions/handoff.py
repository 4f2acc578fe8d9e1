"""转人工: a handoff ticket for the service centre, opened only when the resident clearly asks."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import consent
from bot.actions.backend import channel_of, get_services, transcript
from bot.actions.base import Action
from services.handoff_desk import HandoffRequest

# Words that ask for a person; a vague 有人吗 or 找个人 is asked about first.
EXPLICIT = re.compile(r"转人工|人工|真人|客服|工作人员|坐席|接线员")
QUESTION = "需要为您转人工服务吗？"
BUTTONS = [
    {"title": "转人工", "payload": "/request_human"},
    {"title": "不用", "payload": '/request_human{"handoff_consent": "no"}'},
]


def explicit(text: str) -> bool:
    return bool(EXPLICIT.search(text))


class ActionOpenHandoff(Action):
    def name(self) -> str:
        return "action_open_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = consent.latest_text(tracker)
        answer = consent.latest_entity(tracker, "handoff_consent") or consent.typed_answer(tracker)
        if answer == "no":
            return consent.answer_instead(dispatcher, tracker)
        if answer == "yes" or consent.is_payload(text):
            return self._open(dispatcher, tracker, consent.pending(tracker))
        if explicit(text) and consent.confident(tracker):
            return self._open(dispatcher, tracker, text)
        dispatcher.utter_message(text=QUESTION, buttons=BUTTONS)
        return consent.asked(text)

    @staticmethod
    def _open(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str | None) -> list[EventType]:
        services = get_services()
        ticket = services.open_handoff(
            HandoffRequest(
                sender_id=tracker.sender_id,
                channel=channel_of(tracker),
                transcript=transcript(tracker),
                reason=reason,
            )
        )
        waiting = services.waiting(tracker.sender_id)
        ahead, hours = (waiting.ahead, f"{waiting.hours.text}。") if waiting else ("", "")
        dispatcher.utter_message(
            text=f"已为您转人工服务（工单号 {ticket.ticket}），正在排队，{ahead}"
            f"工作人员接入后会在这里回复您。{hours}"
            "等待时您发的消息都会记在工单上；说“结束人工”可回到智能助手。",
            buttons=[{"title": "结束人工", "payload": "结束人工"}],
            json_message=waiting.card() if waiting else {"type": "handoff", "ticket": ticket.ticket},
        )
        return consent.settled(consent.GIVEN)
