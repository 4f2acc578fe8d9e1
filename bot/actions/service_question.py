"""Answer questions about a service (materials, conditions, process, fees, time limits, location),
about the city's plan, and everything the NLU could not place: the answering core decides."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.answer import answer
from bot.actions.base import Action


class ActionAnswerServiceQuestion(Action):
    def name(self) -> str:
        return "action_answer_service_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return answer(dispatcher, tracker)
