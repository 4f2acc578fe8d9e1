"""Asking before a side effect: a complaint or a handoff starts only on a confident, explicit
request; anything less gets a yes/no question first.

The NLU's intent guard already turns complaint/转人工 into a question when the words ask for
neither; what reaches the actions may still be a guess (DIET at 0.6) or a vague 有人吗. The
question remembers the message it is about (slot ``consent_request``), so 是 carries on with it
and 不是 answers it as the question it probably was.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.answer import answer

# Below this NLU confidence a complaint or 转人工 is a guess, and a guess does not open tickets.
MIN_CONFIDENCE = 0.8
# Featurized: the rules send a typed 是/不是 right after the question back to the asking action.
CONSENT_SLOT = "consent"
ASKED, GIVEN, DECLINED = "asked", "given", "declined"
REQUEST_SLOT = "consent_request"


def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def latest_entity(tracker: Tracker, name: str) -> str | None:
    return next((str(value) for value in tracker.get_latest_entity_values(name) if value), None)


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "").strip()


def is_payload(text: str) -> bool:
    """A tapped button (/intent{...}): the resident chose it, so it is explicit."""
    return text.startswith("/")


def confident(tracker: Tracker) -> bool:
    confidence = (tracker.latest_message.get("intent") or {}).get("confidence")
    return float(confidence or 0.0) >= MIN_CONFIDENCE


def typed_answer(tracker: Tracker) -> str | None:
    """yes/no when the resident typed 是/不是 to our question rather than tapping a button."""
    if tracker.get_slot(CONSENT_SLOT) != ASKED:
        return None
    return {"affirm": "yes", "deny": "no"}.get(latest_intent(tracker))


def asked(text: str) -> list[EventType]:
    return [SlotSet(CONSENT_SLOT, ASKED), SlotSet(REQUEST_SLOT, text)]


def settled(decision: str) -> list[EventType]:
    return [SlotSet(CONSENT_SLOT, decision), SlotSet(REQUEST_SLOT, None)]


def pending(tracker: Tracker) -> str | None:
    """The message an open question is about."""
    if tracker.get_slot(CONSENT_SLOT) != ASKED:
        return None
    return tracker.get_slot(REQUEST_SLOT) or None


def asked_about(tracker: Tracker) -> dict[str, Any] | None:
    """The message the question was about, as the NLU parsed it (text, intent, entities)."""
    text = pending(tracker)
    if not text:
        return None
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("text") == text:
            return {**(event.get("parse_data") or {}), "text": text}
    return {"text": text, "intent": {"name": "inform", "confidence": 0.0}, "entities": []}


def answer_instead(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """不是: the message we asked about gets the answer a question would have got."""
    message = asked_about(tracker)
    if message is None:
        dispatcher.utter_message(text="好的。有什么要办的事，请直接告诉我。")
        return settled(DECLINED)
    question = tracker.copy()
    question.latest_message = message
    return [*answer(dispatcher, question, intent="inform"), *settled(DECLINED)]
