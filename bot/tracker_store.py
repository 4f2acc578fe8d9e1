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
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.redaction import redact_event

logger = logging.getLogger(__name__)
Result = TypeVar("Result")
FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 4.0


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
