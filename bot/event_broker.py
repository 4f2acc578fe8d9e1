"""Rasa's event brokers, blind to personal numbers: every event is masked before it leaves Rasa.

Loaded by Rasa from .venv-rasa (endpoints.yml ``event_broker.type``): imports only Rasa and the
standard library. The tracker store already streams masked copies of what it saves
(bot/tracker_store.py); masking here too covers every other publisher (``rasa export``, a tracker
store configured without redaction) and costs one walk over an already masked dict.

- RedactingSQLEventBroker: the embedded default (``make run``), Rasa's SQL broker writing to
  SQLite (var/rasa_events.db); the ingester reads its ``events`` table from a cursor.
- RedactingPikaEventBroker: the scaled setting, Rasa's Pika broker publishing persistent messages
  to a durable RabbitMQ queue that the one ingester consumes.
"""

from __future__ import annotations

from typing import Any

from rasa.core.brokers.pika import PikaEventBroker
from rasa.core.brokers.sql import SQLEventBroker

from bot.redaction import redact


class RedactingSQLEventBroker(SQLEventBroker):
    def publish(self, event: dict[str, Any]) -> None:
        super().publish(redact(event))


class RedactingPikaEventBroker(PikaEventBroker):
    def publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().publish(redact(event), headers)
