"""Satisfaction ratings: offered once the resident is done with an answer, recorded on 1–5."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.answered_turn import answered_turn
from bot.actions.backend import channel_of, get_services
from bot.actions.base import Action
from services.errors import DomainError
from services.feedback import RatingRequest

_SCORE = re.compile(r"([1-5一二三四五])\s*(分|星)")
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def score_in(text: str) -> int | None:
    match = _SCORE.search(text) or re.fullmatch(r"\s*([1-5])\s*", text)
    if not match:
        return None
    digit = match.group(1)
    return _CHINESE_DIGITS.get(digit) or int(digit)


def rating_buttons() -> list[dict[str, str]]:
    # The payload carries the score as an entity so a tap never depends on NLU.
    return [{"title": f"{n}分", "payload": f'/feedback{{"score": "{n}"}}'} for n in range(5, 0, -1)]


def _score_of(tracker: Tracker) -> int | None:
    for value in tracker.get_latest_entity_values("score"):
        if str(value) in {"1", "2", "3", "4", "5"}:
            return int(value)
    return score_in(tracker.latest_message.get("text") or "")


class ActionOfferRating(Action):
    """After thanks or goodbye, ask once per answered guide how good the answer was."""

    def name(self) -> str:
        return "action_offer_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        answered = tracker.get_slot("last_guide")
        if not answered or tracker.get_slot("rating_offered_for") == answered:
            return []
        dispatcher.utter_message(
            text="刚才的解答对您有帮助吗？请打个分（5分最满意），帮我们改进：", buttons=rating_buttons()
        )
        return [SlotSet("rating_offered_for", answered)]


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        score = _score_of(tracker)
        if score is None:
            dispatcher.utter_message(text="请为刚才的回答打分（1—5分）：", buttons=rating_buttons())
            return []
        try:
            get_services().rate(
                RatingRequest(
                    sender_id=tracker.sender_id,
                    # The answer being rated, not the rating message itself.
                    turn_id=answered_turn(tracker)
                    or str(tracker.latest_message.get("message_id") or len(tracker.events)),
                    score=score,
                    guide_id=tracker.get_slot("last_guide"),
                    comment=None if text.startswith("/") else text,
                    channel=channel_of(tracker),
                )
            )
        except DomainError as error:
            dispatcher.utter_message(text=error.message)
            return []
        follow_up = "" if score >= 4 else "哪里没说清楚，可以直接告诉我，或说“转人工”。"
        dispatcher.utter_message(text=f"收到您的{score}分评价，谢谢！{follow_up}")
        return [SlotSet("rating_offered_for", tracker.get_slot("last_guide"))]
