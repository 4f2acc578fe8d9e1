"""Which earlier turn a rating or a complaint is about: the resident's latest message before this
one whose replies carried an answer card. Its id (Rasa's message id, the gateway's turn id) is
the analytics turn the rating or complaint is joined to."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rasa_sdk import Tracker

GUIDE_ANSWERS = frozenset({"guide_card"})
# What a complaint may be about: a guide's answer, a policy item quoted, an eligibility verdict.
ANSWERS = frozenset({"guide_card", "policy", "eligibility_verdict"})


def answered_turn(tracker: Tracker, payload_types: Collection[str] = GUIDE_ANSWERS) -> str | None:
    """The message id of the latest earlier user message answered with one of ``payload_types``;
    None when no earlier message was."""
    current = tracker.latest_message.get("message_id")
    asked: str | None = None
    answered: str | None = None
    for event in tracker.events:
        if event.get("event") == "user":
            asked = event.get("message_id")
        elif (
            event.get("event") == "bot"
            and asked
            and asked != current
            and _payload_type(event) in payload_types
        ):
            answered = asked
    return answered


def _payload_type(event: dict[str, Any]) -> str | None:
    custom = (event.get("data") or {}).get("custom")
    return custom.get("type") if isinstance(custom, dict) else None
