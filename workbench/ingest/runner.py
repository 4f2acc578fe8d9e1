"""The ingester: Rasa's events from the configured broker into analytics turns, until stopped.

``settings.workbench.event_broker`` picks the source: ``sql`` (make run: Rasa's SQL broker on
SQLite, polled from the cursor kept in analytics_cursors) or ``rabbitmq`` (the scaled setting:
one consumer of the durable queue). Either way a batch's rows, and for SQL its cursor, commit in
one transaction; a database outage pauses the ingester with backoff instead of losing events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from core.settings import Settings
from services.analytics_store import Recorded
from services.errors import ServiceUnavailable
from services.facade import Services
from services.log_privacy import log_text, pseudonym
from workbench.ingest.places import load_places
from workbench.ingest.rabbit_source import RabbitConsumer
from workbench.ingest.sql_source import SqlBrokerSource
from workbench.ingest.turns import TurnAssembler

logger = logging.getLogger(__name__)
Result = TypeVar("Result")
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 30.0
# What the database may answer while it restarts: wait and try the same batch again.
DATABASE_DOWN = (ServiceUnavailable, SQLAlchemyError)


@dataclass
class Totals:
    events: int = 0
    added: int = 0
    updated: int = 0

    def count(self, events: int, recorded: Recorded) -> None:
        self.events += events
        self.added += recorded.added
        self.updated += recorded.updated


class Ingester:
    """Assembles a batch of events and records it (with the source's cursor, when it has one)."""

    def __init__(self, services: Services, assembler: TurnAssembler) -> None:
        self.services = services
        self.assembler = assembler
        self.totals = Totals()

    def ingest(self, events: Sequence[dict[str, Any]], *, cursor: tuple[str, int] | None = None) -> Recorded:
        assembly = self.assembler.assemble(events)
        recorded = self.services.record_turns(assembly.turns, assembly.late, cursor=cursor)
        self.totals.count(len(events), recorded)
        return recorded


def assembler_for(settings: Settings) -> TurnAssembler:
    from indexer.loader import load_guides  # the guide schema is the indexer's

    knowledge = settings.knowledge
    guides = load_guides(knowledge.guides_dir).guides
    secret = settings.services.secret_key
    return TurnAssembler(
        pseudonym=lambda sender: pseudonym(sender, secret=secret),
        mask=log_text,
        timezone=settings.services.timezone,
        places=load_places(knowledge.dictionary_dir, knowledge.halls_file),
        guide_ids={loaded.guide.name: loaded.guide.id for loaded in guides},
    )


def run_sql(
    ingester: Ingester,
    source: SqlBrokerSource,
    *,
    batch: int,
    poll_seconds: float,
    stop: threading.Event,
    once: bool = False,
) -> None:
    """Read the SQL broker from the stored cursor until stopped (``once``: until caught up)."""
    while not stop.is_set():
        caught_up = _patiently(lambda: _sql_batch(ingester, source, batch), stop)
        if caught_up is None or (caught_up and once):
            return
        if caught_up and stop.wait(poll_seconds):
            return


def _sql_batch(ingester: Ingester, source: SqlBrokerSource, batch: int) -> bool:
    """One batch after the cursor; True when it was the last one for now."""
    rows = source.read(ingester.services.ingest_cursor(source.name), batch)
    if rows:
        events = [row.event for row in rows if row.event is not None]
        ingester.ingest(events, cursor=(source.name, rows[-1].id))
    return len(rows) < batch


def run_rabbitmq(
    ingester: Ingester, consumer: RabbitConsumer, *, stop: threading.Event, once: bool = False
) -> None:
    """Consume RabbitMQ until stopped; a batch that cannot be committed is not acknowledged and
    comes back after the pause."""
    _patiently(lambda: consumer.run(lambda events: ingester.ingest(events), stop=stop, once=once), stop)


def _patiently(step: Callable[[], Result], stop: threading.Event) -> Result | None:
    """``step()``, retried with backoff while the database is down; None when stopped meanwhile."""
    pause = FIRST_PAUSE_SECONDS
    while not stop.is_set():
        try:
            return step()
        except DATABASE_DOWN as error:
            logger.warning(
                "analytics database unavailable (%s), retrying in %.0f s", type(error).__name__, pause
            )
            if stop.wait(pause):
                return None
            pause = min(2 * pause, LONGEST_PAUSE_SECONDS)
    return None


def run(settings: Settings, *, stop: threading.Event, once: bool = False) -> Totals:
    """The configured source until ``stop`` (or caught up, with ``once``)."""
    workbench = settings.workbench
    ingester = Ingester(Services.from_settings(settings), assembler_for(settings))
    if workbench.event_broker == "rabbitmq":
        consumer = RabbitConsumer(
            workbench.rabbitmq_url.get_secret_value(),
            workbench.rabbitmq_queue,
            prefetch=workbench.ingest_batch,
        )
        run_rabbitmq(ingester, consumer, stop=stop, once=once)
    else:
        source = SqlBrokerSource(workbench.events_db)
        try:
            run_sql(
                ingester,
                source,
                batch=workbench.ingest_batch,
                poll_seconds=workbench.poll_seconds,
                stop=stop,
                once=once,
            )
        finally:
            source.close()
    return ingester.totals
