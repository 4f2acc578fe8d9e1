"""The gateway's Rasa input channel: one call per turn returns the replies *and* what Rasa made
of the message, so the gateway's turn log needs no second request for the tracker.

Loaded by the Rasa server (.venv-rasa) from credentials.yml as
``channels.rasa_connector.GatewayInput``; it imports only Rasa and Sanic. Endpoint:
``POST /webhooks/gateway/webhook`` with ``{"sender", "message", "metadata", "message_id"}`` →
``{"messages": [...REST replies], "intent", "confidence", "service", "fallback"}``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import ActionExecuted, UserUtteranceReverted, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import rasa_action_validation

# Action server replies are checked against a validator built once (see that module), unless
# ZY_RASA__CACHED_ACTION_VALIDATION=false asks for Rasa's own check (the scale benchmark's 改前).
if os.environ.get("ZY_RASA__CACHED_ACTION_VALIDATION", "true").lower() != "false":
    rasa_action_validation.install()

# The gateway's turn ids are uuid4 hex; anything else lets Rasa make its own.
MAX_MESSAGE_ID_CHARS = 64

# Actions that mean "the assistant did not understand this message".
FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_two_stage_fallback"})


class GatewayInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "gateway"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("gateway_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json or {}
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not isinstance(text, str):
                return response.json({"error": "sender and message are required"}, status=400)
            collector = CollectingOutputChannel()
            message_id = body.get("message_id")
            if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID_CHARS:
                message_id = None
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    sender,
                    input_channel=self.name(),
                    message_id=message_id,
                    metadata=body.get("metadata") or None,
                )
            )
            tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
            return response.json({"messages": collector.messages, **latest_turn(tracker)})

        return webhook


def latest_turn(tracker: Any) -> dict[str, Any]:
    """Intent and confidence of the resident's last message, the service slot, and whether the
    turn ended in a fallback. Read from the events, not ``latest_message``: a fallback reverts
    the message (UserUtteranceReverted), after which the tracker reports the one before it."""
    if tracker is None:
        return {"intent": None, "confidence": None, "service": None, "fallback": False}
    intent, confidence, fallback = None, None, False
    for event in reversed(tracker.events):
        if isinstance(event, UserUtteranceReverted) or (
            isinstance(event, ActionExecuted) and event.action_name in FALLBACK_ACTIONS
        ):
            fallback = True
        elif isinstance(event, UserUttered):
            intent = event.intent.get("name")
            confidence = event.intent.get("confidence")
            fallback = fallback or intent == "nlu_fallback"
            break
    return {
        "intent": intent,
        "confidence": confidence,
        "service": tracker.get_slot("service"),
        "fallback": fallback,
    }
