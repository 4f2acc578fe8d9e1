"""Rasa's SQL tracker store, patient with a short database outage and blind to personal numbers
(loaded by Rasa from .venv-rasa: imports only Rasa, its SQLAlchemy and the standard library, and
is the one project file the Rasa image needs for it).

Patience: when the tracker store fails, Rasa falls back to an empty in-memory tracker: during a
PostgreSQL restart or failover a resident in the middle of a booking would be greeted as a
stranger, and the fresh tracker saved afterwards ends the form for good. PatientSQLTrackerStore
instead retries a failed read or write with backoff for ``patience_seconds``
(endpoints.production.yml), so an outage shorter than that only delays the turn; a longer one
still ends in Rasa's fallback.

Redaction: RedactingSQLTrackerStore (endpoints.yml, endpoints.production.yml) masks every 18-digit
身份证号 and mainland mobile number in what it writes — user messages and their parse data,
bot messages, slot values, at any depth — in services.identity.mask_text's format (also when
typed with spaces, hyphens, +86 or full-width digits), so the store never holds one whole. The
forms do not rely on it (they keep only a mask and a reference in their slots,
bot/actions/personal_slots.py); it is the net under anything that repeats what a resident typed.
Only the stored copies are masked: the turn in progress keeps the real events, so the action
server still sees this message's numbers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)
Result = TypeVar("Result")
FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 4.0

# A single space or hyphen may sit between digits (520302 19450301 0024, 158-8521-1234); a phone
# may carry +86 / 0086 / 86. Chinese keyboards may type all of it full-width (\d matches those
# digits too).
_GAP_CHARS = " -\u3000\uff0d"
_GAP = f"[{re.escape(_GAP_CHARS)}]?"
_ID_NUMBER = re.compile(rf"(?<!\d)\d(?:{_GAP}\d){{16}}{_GAP}[\dXxＸｘ](?![\dXxＸｘ])")
_PHONE = re.compile(
    rf"(?<!\d)((?:[+＋]|[0０]{{2}})?[8８][6６]{_GAP})?([1１]{_GAP}[3-9３-９](?:{_GAP}\d){{9}})(?!\d)"
)
# Random identifiers that may contain digit runs by chance.
_NOT_TEXT = frozenset({"message_id"})


def mask_numbers(text: str) -> str:
    """ID numbers keep their first 6 and last 4 characters (520302********0024), mobile numbers
    their first 3 and last 4 (158****1234); spaces and hyphens between digits stay."""
    text = _ID_NUMBER.sub(lambda m: _masked(m.group(), keep_head=6, keep_tail=4), text)
    return _PHONE.sub(lambda m: (m.group(1) or "") + _masked(m.group(2), keep_head=3, keep_tail=4), text)


def redact(value: Any) -> Any:
    """``value`` with every string inside it masked (dicts and lists at any depth)."""
    if isinstance(value, str):
        return mask_numbers(value)
    if isinstance(value, dict):
        return {key: item if key in _NOT_TEXT else redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def redact_event(event: Event) -> Event:
    """The event as it may be stored: itself when nothing in it needs masking, else a masked copy."""
    data = event.as_dict()
    masked = redact(data)
    if masked == data:
        return event
    copy = Event.from_parameters(masked)
    if copy is None:
        raise ValueError(f"cannot rebuild a masked {event.type_name} event")
    return copy


def _masked(found: str, *, keep_head: int, keep_tail: int) -> str:
    digits = sum(char not in _GAP_CHARS for char in found)
    out, index = [], 0
    for char in found:
        if char in _GAP_CHARS:
            out.append(char)
            continue
        kept = index < keep_head or index >= digits - keep_tail
        out.append(char.upper() if kept else "*")
        index += 1
    return "".join(out)


class PatientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, patience_seconds: float = 30.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patience_seconds = float(patience_seconds)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._patiently(super().retrieve, sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await self._patiently(super().retrieve_full_tracker, conversation_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._patiently(super().save, tracker)

    async def _patiently(self, call: Callable[..., Awaitable[Result]], *args: Any) -> Result:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience_seconds
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                return await call(*args)
            except DBAPIError as error:
                if not error.connection_invalidated and "connect" not in str(error).lower():
                    raise
                if loop.time() + pause > deadline:
                    raise
                logger.warning(
                    "tracker store unavailable, retrying in %.1f s: %s", pause, type(error).__name__
                )
                await asyncio.sleep(pause)
                pause = min(2 * pause, LONGEST_PAUSE_SECONDS)


class RedactingSQLTrackerStore(PatientSQLTrackerStore):
    """Writes (and streams to an event broker) masked copies of the new events.

    SQLTrackerStore.save stores the tracker's events past the number already stored; each event
    is replaced one for one, so that count, and with it what the next save appends, is unchanged.
    """

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator[Event]:
        return (redact_event(event) for event in super()._additional_events(session, tracker))

    async def _stream_new_events(
        self, event_broker: EventBroker, new_events: list[Event], sender_id: str
    ) -> None:
        await super()._stream_new_events(
            event_broker, [redact_event(event) for event in new_events], sender_id
        )
