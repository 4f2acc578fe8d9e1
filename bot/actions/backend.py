"""The services backend as the actions see it: one facade per action-server process."""

from __future__ import annotations

import threading

from rasa_sdk import Tracker

from services.facade import Services
from services.handoff_desk import TranscriptMessage

_lock = threading.Lock()
_services: Services | None = None


def get_services() -> Services:
    """Created on first use (never at import), then shared."""
    global _services
    with _lock:
        if _services is None:
            _services = Services.from_settings()
        return _services


def channel_of(tracker: Tracker) -> str:
    metadata = tracker.latest_message.get("metadata") or {}
    channel = metadata.get("channel") or tracker.sender_id.split(":", 1)[0]
    return channel if channel.isalpha() else "web"


def transcript(tracker: Tracker, limit: int = 50) -> list[TranscriptMessage]:
    """The conversation so far, as the handoff desk shows it."""
    lines = []
    for event in tracker.events:
        if event.get("event") == "user":
            lines.append(TranscriptMessage(role="user", text=event.get("text") or ""))
        elif event.get("event") == "bot" and event.get("text"):
            lines.append(TranscriptMessage(role="bot", text=event["text"]))
    return lines[-limit:]
