"""Questions the NLU reads as about the city's plan (遵府办发〔2017〕39号): the answering core
quotes the plan's item when the words ask how government services work, and answers the
service instead when they name or describe one."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.answer import answer
from bot.actions.base import Action


class ActionAnswerPolicy(Action):
    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return answer(dispatcher, tracker)
