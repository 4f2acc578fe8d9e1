"""Low NLU confidence: retrieval still gets its say. A confident match is answered, close
guides are offered ("您是想问：…"), and only then do we admit we don't know (with 12345)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.answer import answer
from bot.actions.base import Action


class ActionDefaultFallback(Action):
    """No UserUtteranceReverted: the turn stays in the tracker, so its question, the answer
    given and the slots it set are what the conversation (and the turn log) remember."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return answer(dispatcher, tracker, intent="nlu_fallback")
