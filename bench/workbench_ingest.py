"""The ingester under load, for bench.workbench: conversations recorded from the real stack
(tests/workbench/ingest/data/recorded_events.json) replicated with fresh sender and message ids
into N turns, fed from Rasa's SQL broker table or from RabbitMQ, then replayed a second time."""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pika
from pika.exceptions import AMQPError
from sqlalchemy import func, select

from core.settings import PROJECT_ROOT
from services.facade import Services
from services.models import AnalyticsTurn
from workbench.ingest import rabbit_source
from workbench.ingest.rabbit_source import RabbitConsumer
from workbench.ingest.runner import Ingester, run_rabbitmq, run_sql
from workbench.ingest.sql_source import SqlBrokerSource
from workbench.ingest.turns import TurnAssembler

RECORDED = PROJECT_ROOT / "tests" / "workbench" / "ingest" / "data" / "recorded_events.json"
# Copy n of the recording starts this long after copy n-1: many residents' conversations overlap,
# so a batch holds several senders and ends in the middle of turns, as on a busy day.
SPACING_SECONDS = 2.0
QUEUE_FILL_SECONDS = 60.0

Event = dict[str, Any]


@dataclass(frozen=True)
class Workload:
    events: list[Event]  # in publication order
    turns: int  # resident messages among them


@dataclass(frozen=True)
class IngestRun:
    events: int
    turns: int
    first_seconds: float
    replay_seconds: float
    rows_first: int
    rows_after_replay: int

    @property
    def counted_once(self) -> bool:
        return self.rows_first == self.rows_after_replay == self.turns


def synthetic_workload(turns: int) -> Workload:
    """At least ``turns`` resident messages: whole copies of the recording, each with its own
    senders and message ids, shifted in time and interleaved by timestamp."""
    recorded: list[Event] = json.loads(RECORDED.read_text(encoding="utf-8"))
    per_copy = sum(event["event"] == "user" for event in recorded)
    # Ids are replaced in the JSON text: they also sit inside parse_data, wherever Rasa put them.
    ids = {event["message_id"] for event in recorded if event["event"] == "user"}
    ids |= {event["sender_id"].partition(":")[2] for event in recorded}
    template = json.dumps(recorded, ensure_ascii=False)
    copies = max(1, math.ceil(turns / per_copy))
    events: list[Event] = []
    for copy in range(copies):
        text = template
        for old in ids:
            text = text.replace(old, uuid.uuid4().hex)
        for event in json.loads(text):
            event["timestamp"] += copy * SPACING_SECONDS
            events.append(event)
    events.sort(key=lambda event: event["timestamp"])
    return Workload(events, copies * per_copy)


def write_sql_broker(path: Path, events: list[Event]) -> None:
    """Rasa's SQL event broker table (rasa/core/brokers/sql.py: id, sender_id, data), filled."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id VARCHAR(255), data TEXT)"
        )
        db.executemany(
            "INSERT INTO events (sender_id, data) VALUES (?, ?)",
            ((event["sender_id"], json.dumps(event)) for event in events),
        )
    db.close()


def turn_rows(services: Services) -> int:
    with services.unit() as (session, _ctx):
        return int(session.scalar(select(func.count()).select_from(AnalyticsTurn)) or 0)


def _timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def ingest_sql(
    services: Services, assembler: TurnAssembler, workload: Workload, events_db: Path, *, batch: int
) -> IngestRun:
    """The broker table read from the start until caught up; then the cursor is rewound to 0
    (every event delivered again) and it is read once more."""
    write_sql_broker(events_db, workload.events)
    source = SqlBrokerSource(events_db)

    def catch_up() -> None:
        ingester = Ingester(services, assembler)
        run_sql(ingester, source, batch=batch, poll_seconds=0.01, stop=threading.Event(), once=True)

    try:
        first = _timed(catch_up)
        rows_first = turn_rows(services)
        services.record_turns([], cursor=(source.name, 0))
        replay = _timed(catch_up)
    finally:
        source.close()
    return IngestRun(len(workload.events), workload.turns, first, replay, rows_first, turn_rows(services))


def rabbitmq_problem(url: str) -> str | None:
    """None when RabbitMQ at ``url`` accepts a connection, else why not (in Chinese, for the table)."""
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except AMQPError as error:
        return f"RabbitMQ 连不上（{type(error).__name__}），跳过"
    return None


def ingest_rabbitmq(
    services: Services, assembler: TurnAssembler, workload: Workload, url: str, *, batch: int
) -> IngestRun:
    """The events published as Rasa's Pika broker publishes them (persistent JSON messages to a
    fanout exchange) to a throwaway exchange and queue, consumed until the queue is empty; then
    published and consumed once more (a redelivery of everything)."""
    name = f"bench-ingest-{secrets.token_hex(4)}"
    consumer = RabbitConsumer(url, name, prefetch=batch, exchange=name, connection_name="zunyi-bench")

    def drain() -> None:
        run_rabbitmq(Ingester(services, assembler), consumer, stop=threading.Event(), once=True)

    try:
        _publish(url, consumer, name, workload.events)
        # `once` returns after one quiet spell with nothing to read: waiting, not ingest work.
        first = _timed(drain) - rabbit_source.QUIET_SECONDS
        rows_first = turn_rows(services)
        _publish(url, consumer, name, workload.events)
        replay = _timed(drain) - rabbit_source.QUIET_SECONDS
    finally:
        _delete(url, name)
    return IngestRun(len(workload.events), workload.turns, first, replay, rows_first, turn_rows(services))


def _publish(url: str, consumer: RabbitConsumer, name: str, events: list[Event]) -> None:
    """Every event in the queue before the clock starts (the ingester meets a backlog)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        consumer.declare(channel)
        properties = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
        for event in events:
            channel.basic_publish(name, "", json.dumps(event).encode("utf-8"), properties)
        deadline = time.monotonic() + QUEUE_FILL_SECONDS
        while channel.queue_declare(name, durable=True, passive=True).method.message_count < len(events):
            if time.monotonic() > deadline:
                raise RuntimeError(f"RabbitMQ 队列 {name} 在 {QUEUE_FILL_SECONDS:.0f} 秒内未收齐事件")
            time.sleep(0.1)
    finally:
        connection.close()


def _delete(url: str, name: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.queue_delete(name)
        channel.exchange_delete(name)
    finally:
        connection.close()
