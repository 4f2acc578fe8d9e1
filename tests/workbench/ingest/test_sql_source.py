"""The ingester reads Rasa's SQL event broker (as endpoints.yml configures it, written by Rasa
itself) from the cursor it commits with its rows: stopped and started again it neither skips nor
recounts, and events Rasa writes while it runs arrive within a poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ingest_support import broker_endpoints, clear_turns, publish_with_rasa, recorded_events, snapshot

from services.facade import Services
from workbench.ingest.runner import Ingester, run_sql
from workbench.ingest.sql_source import BrokerRow, SqlBrokerSource
from workbench.ingest.turns import TurnAssembler

BATCH = 7  # the recording's turns span more events than this: batches end mid-turn


@pytest.fixture(scope="module")
def broker_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Rasa's SQL broker table: the recording's first conversation, and one with both."""
    events = recorded_events()
    split = next(i for i, e in enumerate(events) if e["sender_id"] != events[0]["sender_id"])
    directory = tmp_path_factory.mktemp("sql-broker")
    first, both = directory / "first.db", directory / "both.db"
    for db, part in ((first, events[:split]), (both, events)):
        endpoints = broker_endpoints(directory, "endpoints.yml", {"db": str(db)})
        assert publish_with_rasa(endpoints, part, directory) == "RedactingSQLEventBroker"
    return first, both


class Stopping(SqlBrokerSource):
    """Sets ``stop`` after ``reads`` reads: the ingester stopped between two batches."""

    def __init__(self, events_db: Path, stop: threading.Event, reads: int) -> None:
        super().__init__(events_db)
        self._stop, self._left = stop, reads

    def read(self, after: int, limit: int) -> list[BrokerRow]:
        self._left -= 1
        if self._left <= 0:
            self._stop.set()
        return super().read(after, limit)


def test_stopped_and_started_again_it_resumes_where_it_committed(
    services: Services, assembler: TurnAssembler, broker_files: tuple[Path, Path]
) -> None:
    _, both = broker_files
    Ingester(services, assembler).ingest(
        [row.event for row in SqlBrokerSource(both).read(0, 10_000) if row.event]
    )
    whole = snapshot(services)
    clear_turns(services)

    stop = threading.Event()
    run_sql(
        Ingester(services, assembler),
        Stopping(both, stop, reads=3),
        batch=BATCH,
        poll_seconds=0.01,
        stop=stop,
    )
    part = snapshot(services)
    assert 0 < len(part) < len(whole)
    assert services.ingest_cursor("rasa_sql_broker") == 3 * BATCH

    run_sql(
        Ingester(services, assembler),
        SqlBrokerSource(both),
        batch=BATCH,
        poll_seconds=0.01,
        stop=threading.Event(),
        once=True,
    )
    assert snapshot(services) == whole
    assert services.ingest_cursor("rasa_sql_broker") == len(recorded_events())


def test_events_written_while_it_runs_arrive_within_a_poll(
    services: Services, assembler: TurnAssembler, broker_files: tuple[Path, Path], tmp_path: Path
) -> None:
    first, _ = broker_files
    events = recorded_events()
    live = tmp_path / "rasa_events.db"
    live.write_bytes(first.read_bytes())
    stop = threading.Event()
    worker = threading.Thread(
        target=run_sql,
        args=(Ingester(services, assembler), SqlBrokerSource(live)),
        kwargs={"batch": BATCH, "poll_seconds": 0.2, "stop": stop},
    )
    worker.start()
    try:
        _wait_for(lambda: len(snapshot(services)) == 7)
        split = next(i for i, e in enumerate(events) if e["sender_id"] != events[0]["sender_id"])
        endpoints = broker_endpoints(tmp_path, "endpoints.yml", {"db": str(live)})
        publish_with_rasa(endpoints, events[split:], tmp_path)
        _wait_for(lambda: len(snapshot(services)) == 13)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()


def test_a_missing_broker_file_is_nothing_to_read(tmp_path: Path) -> None:
    assert SqlBrokerSource(tmp_path / "not-yet.db").read(0, 10) == []


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the ingester did not catch up"
        time.sleep(0.1)
