"""Rasa's SQL tracker store, patient with a short database outage (loaded by Rasa, .venv-rasa).

When the tracker store fails, Rasa falls back to an empty in-memory tracker: during a PostgreSQL
restart or failover a resident in the middle of a booking would be greeted as a stranger, and the
fresh tracker saved afterwards ends the form for good. This store instead retries a failed read
or write with backoff for ``patience_seconds`` (endpoints.production.yml), so an outage shorter
than that only delays the turn; a longer one still ends in Rasa's fallback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import DBAPIError

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
