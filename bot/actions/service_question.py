"""Answer materials, eligibility, process, fee, time-limit and location questions about a service."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.fallback import say_not_sure
from bot.actions.policy import answer_policy
from bot.actions.rendering import ASPECT_OF_INTENT, citation, guide_card, next_step_buttons, render_aspect
from indexer.api import get_guide, search
from indexer.schema import Guide
from indexer.search import QueryError, SearchResult

# When the best two guides score this close and the question names neither, ask instead of guessing.
AMBIGUITY_RATIO = 0.93


def _entity_guide(tracker: Tracker) -> Guide | None:
    for value in tracker.get_latest_entity_values("service"):
        guide = get_guide(value)
        if guide is not None:
            return guide
    return None


def _clarify(dispatcher: CollectingDispatcher, result: SearchResult, intent: str) -> None:
    candidates = [hit for hit in result.hits if hit.kind == "guide"][:3]
    dispatcher.utter_message(
        text="您问的是下面哪一项？请点选：",
        buttons=[
            {"title": hit.title, "payload": f'/{intent}{{"service": "{hit.title}"}}'} for hit in candidates
        ],
    )


def _is_ambiguous(result: SearchResult) -> bool:
    guides = [hit for hit in result.hits if hit.kind == "guide"]
    return (
        not result.linked_guides and len(guides) >= 2 and guides[1].score >= AMBIGUITY_RATIO * guides[0].score
    )


def find_guide(
    dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str
) -> tuple[Guide | None, bool]:
    """(guide, already answered): the service the question names, else the one we were
    talking about (follow-ups such as 那要好多钱), else what retrieval is sure of.

    Ambiguous questions are answered with a clarification whose buttons repeat `intent`."""
    guide = _entity_guide(tracker)
    if guide is not None:
        return guide, False
    try:
        result = search(text, k=3) if text.strip() and not text.startswith("/") else None
    except QueryError:
        result = None
    if result is not None and result.linked_guides:
        return get_guide(result.linked_guides[0]), False
    remembered = tracker.get_slot("service")
    if remembered and get_guide(remembered):
        return get_guide(remembered), False
    if result is None or not result.confident or not result.hits:
        return None, False
    if result.hits[0].kind == "policy":
        answer_policy(dispatcher, result.hits[0])
        return None, True
    if _is_ambiguous(result):
        _clarify(dispatcher, result, intent)
        return None, True
    return get_guide(result.hits[0].doc_id), False


class ActionAnswerServiceQuestion(Action):
    def name(self) -> str:
        return "action_answer_service_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "inform"
        aspect = ASPECT_OF_INTENT.get(intent, "overview")
        text = tracker.latest_message.get("text") or ""
        guide, handled = find_guide(dispatcher, tracker, text, intent)
        if handled:
            return []
        if guide is None:
            say_not_sure(dispatcher, tracker, text)
            return []
        dispatcher.utter_message(
            text=f"{render_aspect(guide, aspect)}\n{citation(guide)}",
            buttons=next_step_buttons(guide),
            json_message=guide_card(guide, aspect),
        )
        return [SlotSet("service", guide.name), SlotSet("last_guide", guide.id)]
