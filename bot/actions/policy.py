"""Answer questions about the city's plan (遵府办发〔2017〕39号), quoting the item."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.fallback import say_not_sure
from bot.actions.rendering import policy_source, render_policy
from indexer.api import policy_item_text, search
from indexer.search import QueryError, SearchFilters, SearchHit

POLICY_ONLY = SearchFilters(kinds=frozenset({"policy"}))


def answer_policy(dispatcher: CollectingDispatcher, hit: SearchHit) -> None:
    item_text = policy_item_text(hit.doc_id) or hit.text
    dispatcher.utter_message(
        text=render_policy(hit, item_text),
        json_message={"type": "policy", "doc_id": hit.doc_id, "sources": [policy_source(hit)]},
    )


class ActionAnswerPolicy(Action):
    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        try:
            result = search(text, k=1, filters=POLICY_ONLY)
        except QueryError:
            result = None
        if result is None or not result.hits or not result.confident:
            say_not_sure(dispatcher, tracker, text)
            return []
        answer_policy(dispatcher, result.hits[0])
        return []
