"""The Rasa side of the answering core: a tracker → a Turn, a Decision → messages and slots."""

from __future__ import annotations

import json
import logging
import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from answering.core import decide
from answering.decision import Decision, Kind
from answering.render import Reply, render
from answering.turn import Turn
from services.log_privacy import log_text, pseudonym

unanswered_log = logging.getLogger("zunyi.unanswered")
SITUATION_SLOT = "situation"
BUNDLE_SLOT = "bundle"
# The whole list rather than the phone-sized essentials: the 全部材料 button, or said so.
_WANTS_ALL = re.compile(
    r"全部材料|所有材料|完整的?材料|材料.{0,4}全部|全部的?清单|都要带些?啥|都列出来|全部列出|按情况的那些"
)


def turn_of(tracker: Tracker, intent: str | None = None) -> Turn:
    latest = tracker.latest_message or {}
    parsed = latest.get("intent") or {}
    text = str(latest.get("text") or "")
    return Turn(
        text=text,
        intent=intent or parsed.get("name"),
        confidence=float(parsed.get("confidence") or 0.0),
        services=tuple(str(value) for value in tracker.get_latest_entity_values("service")),
        situation=next(iter(tracker.get_latest_entity_values(SITUATION_SLOT)), None),
        # last_guide is set only by our answers; the service slot also takes whatever the NLU
        # tagged as a service (补贴), so it is the fallback.
        remembered_service=tracker.get_slot("last_guide") or tracker.get_slot("service"),
        remembered_situation=tracker.get_slot(SITUATION_SLOT),
        remembered_bundle=tracker.get_slot(BUNDLE_SLOT),
        full="all" in tracker.get_latest_entity_values("detail") or bool(_WANTS_ALL.search(text)),
    )


# Below this the ResponseSelector's topic is a guess (开小吃店卖什么最赚钱 got the finance reply):
# the general refusal is said instead.
MIN_TOPIC_CONFIDENCE = 0.8


def topic_refusal(tracker: Tracker) -> str | None:
    """The ResponseSelector's topic-specific reply (天气、股票…) for an out_of_scope message."""
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    response = (selector.get("out_of_scope") or {}).get("response") or {}
    responses = response.get("responses") or []
    if not responses or float(response.get("confidence") or 0.0) < MIN_TOPIC_CONFIDENCE:
        return None
    return responses[0].get("text")


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None, json_message=reply.payload)


def log_unanswered(tracker: Tracker, decision: Decision) -> None:
    unanswered_log.info(
        json.dumps(
            {
                "event": "unanswered",
                "sender": pseudonym(tracker.sender_id),
                "text": log_text(tracker.latest_message.get("text") or ""),
                "kind": decision.kind.value,
                "reason": decision.evidence,
            },
            ensure_ascii=False,
        )
    )


def remember(decision: Decision) -> list[EventType]:
    """Slots a follow-up (那要好多钱、第二种呢、第二步要带啥) leans on. A life event answered
    replaces the service talked about; a step's service is remembered within its event."""
    if decision.kind is Kind.bundle and decision.plan is not None:
        return [
            SlotSet(BUNDLE_SLOT, decision.plan.bundle.id),
            SlotSet("service", None),
            SlotSet("last_guide", None),
            SlotSet(SITUATION_SLOT, None),
        ]
    guide = decision.guide
    if guide is None or decision.kind not in (Kind.answer, Kind.ask_situation):
        return []
    return [
        SlotSet("service", guide.name),
        SlotSet("last_guide", guide.id),
        SlotSet(SITUATION_SLOT, decision.situation.id if decision.situation else None),
    ]


def answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str | None = None) -> list[EventType]:
    """Decide, reply and remember: every question-answering action ends here."""
    decision = decide(turn_of(tracker, intent))
    if decision.kind in (Kind.not_sure, Kind.clarify, Kind.out_of_scope):
        log_unanswered(tracker, decision)
    send(dispatcher, render(decision, topic_refusal(tracker)))
    return remember(decision)
