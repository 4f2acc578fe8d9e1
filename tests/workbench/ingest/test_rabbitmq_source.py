"""The ingester consumes Rasa's Pika broker (as endpoints.production.yml configures it, publishing
from Rasa itself) on the real RabbitMQ: events published while it is down wait in the durable
queue, a consumer killed after its commit but before its acknowledgement has its batch delivered
again and counted once, and a dropped connection is reconnected.

Skipped when RabbitMQ is not reachable, unless ZY_REQUIRE_RABBITMQ=1 (set by .ci/run)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pika
import pytest
from ingest_support import broker_endpoints, clear_turns, publish_with_rasa, recorded_events, snapshot
from pika.exceptions import AMQPError

from core.settings import PROJECT_ROOT, WorkbenchSettings
from services.facade import Services
from workbench.ingest.rabbit_source import RabbitConsumer
from workbench.ingest.runner import Ingester, run_rabbitmq
from workbench.ingest.turns import TurnAssembler

URL = os.environ.get("ZY_TEST_RABBITMQ_URL") or WorkbenchSettings().rabbitmq_url.get_secret_value()


@pytest.fixture(scope="module")
def rabbitmq() -> str:
    try:
        pika.BlockingConnection(pika.URLParameters(URL)).close()
    except AMQPError as error:
        if os.environ.get("ZY_REQUIRE_RABBITMQ") == "1":
            pytest.fail(
                f"RabbitMQ is not reachable ({type(error).__name__}); ZY_REQUIRE_RABBITMQ=1", pytrace=False
            )
        pytest.skip(f"RabbitMQ is not reachable ({type(error).__name__})")
    return URL


@pytest.fixture
def queue(rabbitmq: str) -> Iterator[tuple[str, str]]:
    """A queue and a fanout exchange of this test's own (Rasa's default exchange feeds every queue
    bound to it, a running stack's too); both deleted afterwards."""
    name = f"test-ingest-{secrets.token_hex(4)}"
    yield name, name
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq))
    channel = connection.channel()
    channel.queue_delete(name)
    channel.exchange_delete(name)
    connection.close()


def _publish(queue: tuple[str, str], directory: Path) -> None:
    """The recording, through the broker endpoints.production.yml configures, from Rasa."""
    params = pika.URLParameters(URL)
    values = {
        "ZY_RABBITMQ_HOST": params.host,
        "ZY_RABBITMQ_PORT": str(params.port),
        "ZY_RABBITMQ_USER": params.credentials.username,  # type: ignore[attr-defined]
        "ZY_RABBITMQ_PASSWORD": params.credentials.password,  # type: ignore[attr-defined]
        "ZY_RABBITMQ_QUEUE": queue[0],
        "exchange_name": queue[1],
    }
    endpoints = broker_endpoints(directory, "endpoints.production.yml", values)
    assert publish_with_rasa(endpoints, recorded_events(), directory) == "RedactingPikaEventBroker"


def _waiting(queue: tuple[str, str]) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    try:
        return int(
            connection.channel().queue_declare(queue[0], durable=True, passive=True).method.message_count
        )
    finally:
        connection.close()


def _consumer(queue: tuple[str, str], name: str = "zunyi-ingester-test") -> RabbitConsumer:
    return RabbitConsumer(URL, queue[0], prefetch=50, exchange=queue[1], connection_name=name)


def _whole(services: Services, assembler: TurnAssembler) -> list[tuple[object, ...]]:
    Ingester(services, assembler).ingest(recorded_events())
    whole = snapshot(services)
    clear_turns(services)
    return whole


def test_events_published_while_the_ingester_is_down_are_ingested_when_it_comes_back(
    services: Services, assembler: TurnAssembler, queue: tuple[str, str], tmp_path: Path
) -> None:
    whole = _whole(services, assembler)
    _publish(queue, tmp_path)  # Rasa declares the durable queue; nobody consumes yet
    assert _waiting(queue) == len(recorded_events())
    run_rabbitmq(Ingester(services, assembler), _consumer(queue), stop=threading.Event(), once=True)
    assert snapshot(services) == whole
    assert _waiting(queue) == 0


# Runs with the app's Python: consumes, commits the batch, then dies by SIGKILL before the ack.
KILLED_AFTER_COMMIT = """
import os, signal, sys, threading
from core.settings import Settings
from services.facade import Services
from workbench.ingest.rabbit_source import RabbitConsumer
from workbench.ingest.runner import Ingester, assembler_for

url, queue, exchange = sys.argv[1:4]
settings = Settings()
ingester = Ingester(Services.from_settings(settings), assembler_for(settings))

def commit_then_die(events):
    ingester.ingest(events)
    os.kill(os.getpid(), signal.SIGKILL)

RabbitConsumer(url, queue, prefetch=500, exchange=exchange).run(commit_then_die, stop=threading.Event())
"""


def test_a_consumer_killed_before_its_ack_has_the_batch_again_counted_once(
    services: Services, assembler: TurnAssembler, queue: tuple[str, str], tmp_path: Path, database_url: str
) -> None:
    whole = _whole(services, assembler)
    _publish(queue, tmp_path)
    env = {
        **os.environ,
        "ZY_SERVICES__DATABASE_URL": database_url,
        "ZY_SERVICES__SECRET_KEY": "test-secret-key",
    }
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_COMMIT, URL, *queue],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert snapshot(services) == whole  # committed before it died
    _wait_for(lambda: _waiting(queue) == len(recorded_events()))  # not acknowledged: back in the queue
    run_rabbitmq(Ingester(services, assembler), _consumer(queue), stop=threading.Event(), once=True)
    assert snapshot(services) == whole
    assert _waiting(queue) == 0


def test_a_dropped_connection_is_reconnected(
    services: Services, assembler: TurnAssembler, queue: tuple[str, str], tmp_path: Path
) -> None:
    whole = _whole(services, assembler)
    name = f"zunyi-ingester-{secrets.token_hex(3)}"
    stop = threading.Event()
    worker = threading.Thread(
        target=run_rabbitmq,
        args=(Ingester(services, assembler), _consumer(queue, name)),
        kwargs={"stop": stop},
    )
    worker.start()
    try:
        _wait_for(lambda: _connections(name) != [])
        for connection in _connections(name):  # what a broker restart does to its clients
            subprocess.run(
                ["rabbitmqctl", "-q", "close_connection", connection, "test"], check=True, timeout=30
            )
        _publish(queue, tmp_path)
        _wait_for(lambda: snapshot(services) == whole, seconds=30)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()


def _connections(name: str) -> list[str]:
    """RabbitMQ's process ids of the connections the consumer called ``name``."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "--no-table-headers", "pid", "client_properties"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return [line.split("\t")[0] for line in listed.splitlines() if f'{{"connection_name","{name}"}}' in line]


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
