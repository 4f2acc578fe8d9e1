"""Rasa's SQL event broker (``events``: id, sender_id, data) read in id order after a position.

The embedded default writes to SQLite, where one writer at a time means ids are committed in
order: every row below the highest id read is already there, so ``id > position`` misses none.
The file is opened read-only and only for a read, so Rasa's writes never wait long for it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from services.analytics_store import SQL_BROKER_CURSOR

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerRow:
    id: int
    event: dict[str, Any] | None  # None: not a JSON object (skipped, but the cursor moves past it)


class SqlBrokerSource:
    """Rows of the SQL broker's ``events`` table after a position, oldest first."""

    def __init__(self, events_db: Path) -> None:
        self.events_db = events_db
        self._engine: Engine | None = None

    @property
    def name(self) -> str:
        """The cursor's key in analytics_cursors."""
        return SQL_BROKER_CURSOR

    def read(self, after: int, limit: int) -> list[BrokerRow]:
        if not self.events_db.exists():
            return []  # Rasa has not published anything yet
        try:
            with self._connect().connect() as connection:
                rows = connection.execute(
                    text("SELECT id, data FROM events WHERE id > :after ORDER BY id LIMIT :limit"),
                    {"after": after, "limit": limit},
                ).all()
        except OperationalError as error:
            if "no such table" in str(error):
                return []  # the file exists but Rasa has not created its table yet
            raise
        return [BrokerRow(int(row.id), _event(row.data, int(row.id))) for row in rows]

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def _connect(self) -> Engine:
        if self._engine is None:
            uri = f"file:{self.events_db.resolve()}?mode=ro"
            self._engine = create_engine("sqlite://", creator=lambda: _sqlite_read_only(uri))
        return self._engine


def _sqlite_read_only(uri: str) -> sqlite3.Connection:
    return sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)


def _event(data: str | None, row_id: int) -> dict[str, Any] | None:
    try:
        event = json.loads(data or "")
    except json.JSONDecodeError:
        event = None
    if not isinstance(event, dict):
        logger.warning("skipping event row %d of the SQL broker: not a JSON object", row_id)
        return None
    return event
