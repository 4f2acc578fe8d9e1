"""Say honestly that we don't know, point to 12345, and record the question as unanswered."""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from services.identity import mask_text

unanswered_log = logging.getLogger("zunyi.unanswered")


def say_not_sure(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> None:
    unanswered_log.info(
        json.dumps(
            {"event": "unanswered", "sender": tracker.sender_id, "text": mask_text(text)}, ensure_ascii=False
        )
    )
    dispatcher.utter_message(
        text="抱歉，这个问题我没有把握回答，怕说错耽误您跑冤枉路。您可以换个说法，比如“低保要带哪些材料”，"
        "或拨打政务服务热线 12345，也可以说“转人工”。",
        buttons=[{"title": "转人工", "payload": "/request_human"}],
        json_message={"type": "unanswered"},
    )


class ActionDefaultFallback(Action):
    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        say_not_sure(dispatcher, tracker, tracker.latest_message.get("text") or "")
        return [UserUtteranceReverted()]
