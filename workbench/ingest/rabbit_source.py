"""Rasa's Pika event broker consumed from its durable RabbitMQ queue (the scaled setting).

Rasa publishes every event as a persistent message to its fanout exchange, bound to the durable
queue ``settings.workbench.rabbitmq_queue``. The consumer takes up to ``prefetch`` unacknowledged
messages, hands them over as one batch once the queue goes quiet (or the batch is full), and
acknowledges them only after the batch's rows are committed: if the ingester dies before that,
RabbitMQ delivers them again and the idempotent store counts them once. A lost connection (the
broker restarting) is retried with backoff; unacknowledged messages are redelivered meanwhile.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError

logger = logging.getLogger(__name__)

# Rasa's PikaEventBroker publishes to this fanout exchange (rasa/core/brokers/pika.py), declared
# as aio_pika declares it (not durable): declaring it with other flags would be refused.
RASA_EXCHANGE = "rasa-exchange"
QUIET_SECONDS = 0.3  # a batch is handed over after this long without a new message
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 30.0

Handle = Callable[[list[dict[str, Any]]], object]


class RabbitConsumer:
    """Batches of events from the queue to ``handle``; acknowledged after it returns."""

    def __init__(
        self,
        url: str,
        queue: str,
        *,
        prefetch: int,
        exchange: str = RASA_EXCHANGE,
        connection_name: str = "zunyi-ingester",
    ) -> None:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        self._parameters = pika.URLParameters(url)
        # How RabbitMQ's connection list names it (rabbitmqctl list_connections client_properties).
        self._parameters.client_properties = {"connection_name": connection_name}
        self._queue = queue
        self._exchange = exchange
        self._prefetch = prefetch

    def run(self, handle: Handle, *, stop: threading.Event, once: bool = False) -> None:
        """Consume until ``stop`` is set (or, with ``once``, until the queue is empty)."""
        pause = FIRST_PAUSE_SECONDS
        while not stop.is_set():
            try:
                drained = self._consume(handle, stop, once)
                pause = FIRST_PAUSE_SECONDS
                if drained:
                    return
            except AMQPError as error:
                logger.warning(
                    "RabbitMQ unavailable (%s), reconnecting in %.0f s", type(error).__name__, pause
                )
                if stop.wait(pause):
                    return
                pause = min(2 * pause, LONGEST_PAUSE_SECONDS)

    def _consume(self, handle: Handle, stop: threading.Event, once: bool) -> bool:
        """One connection's life; True when ``once`` found the queue empty."""
        connection = pika.BlockingConnection(self._parameters)
        try:
            channel = connection.channel()
            self.declare(channel)
            channel.basic_qos(prefetch_count=self._prefetch)
            logger.info("consuming Rasa's events from RabbitMQ queue %s", self._queue)
            batch: list[dict[str, Any]] = []
            last_tag: int | None = None
            for method, _properties, body in channel.consume(self._queue, inactivity_timeout=QUIET_SECONDS):
                if method is not None:
                    last_tag = method.delivery_tag
                    event = _event(body)
                    if event is not None:
                        batch.append(event)
                    if len(batch) < self._prefetch:
                        continue
                if last_tag is not None:
                    handle(batch)  # raises when the rows cannot be committed: nothing acknowledged
                    channel.basic_ack(delivery_tag=last_tag, multiple=True)
                    batch, last_tag = [], None
                    if stop.is_set():
                        return False
                elif once or stop.is_set():
                    return once
            return False
        finally:
            if connection.is_open:
                connection.close()  # unacknowledged messages go back to the queue

    def declare(self, channel: BlockingChannel) -> None:
        """The queue and its binding, as Rasa declares them: whoever starts first creates them,
        and events published while the ingester is down wait in the durable queue."""
        channel.exchange_declare(self._exchange, exchange_type="fanout")
        channel.queue_declare(self._queue, durable=True)
        channel.queue_bind(self._queue, self._exchange)


def _event(body: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        event = None
    if not isinstance(event, dict):
        logger.warning("skipping a RabbitMQ message that is not a JSON event")
        return None
    return event
