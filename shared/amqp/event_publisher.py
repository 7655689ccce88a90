"""Publishing raw events (JSON bytes) to a topic exchange, with publisher confirms.

For the scheduler's events, which other services consume with their own queues: unlike
``shared.amqp.publisher`` it sends no Dramatiq message, just the event. ``publish`` returns only once
RabbitMQ has confirmed the message; otherwise it raises ``PublishFailed``, a TransientError, so
the caller keeps its state and tries again later.

``mandatory=True``: a message no queue is bound to receive is refused (``PublishFailed``), not
confirmed and dropped; the consumers declare their queues when they start.
"""

import threading
from typing import Protocol

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from shared.amqp.publisher import PublishFailed
from shared.broker import with_connection_defaults


class RawPublisher(Protocol):
    def publish(
        self, exchange: str, routing_key: str, body: bytes, *, message_id: str, correlation_id: str | None = None
    ) -> None:
        """Return only once the broker has the message; raise PublishFailed otherwise."""
        ...


class EventPublisher:
    """One connection and confirmed channel, opened on first use and again after a failure.

    Thread-safe: a lock serialises publishes (a pika connection belongs to one thread at a time).
    """

    def __init__(self, amqp_url: str) -> None:
        self._parameters = pika.URLParameters(with_connection_defaults(amqp_url))
        self._lock = threading.Lock()
        self._connection: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._declared: set[str] = set()

    def publish(
        self, exchange: str, routing_key: str, body: bytes, *, message_id: str, correlation_id: str | None = None
    ) -> None:
        properties = pika.BasicProperties(
            delivery_mode=2,
            content_type="application/json",
            message_id=message_id,
            correlation_id=correlation_id,
        )
        with self._lock:
            try:
                channel = self._ready_channel()
                if exchange not in self._declared:
                    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
                    self._declared.add(exchange)
                channel.basic_publish(exchange, routing_key, body, properties=properties, mandatory=True)
            except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as error:
                # The connection is fine; the broker said no to this message.
                raise PublishFailed(f"broker did not take the message: {type(error).__name__}") from error
            except (pika.exceptions.AMQPError, OSError) as error:
                self._discard()
                raise PublishFailed(f"broker did not confirm: {type(error).__name__}: {error}") from error

    def close(self) -> None:
        with self._lock:
            self._discard()

    def _ready_channel(self) -> BlockingChannel:
        if self._connection is not None and self._channel is not None and self._channel.is_open:
            try:
                # An idle connection may have been dropped (missed heartbeats, a broker restart)
                # without our noticing; reading now finds out before we publish on it.
                self._connection.process_data_events(time_limit=0)
                return self._channel
            except (pika.exceptions.AMQPError, OSError):
                pass  # dropped: discarded and opened again below
        self._discard()
        self._connection = pika.BlockingConnection(self._parameters)
        channel = self._connection.channel()
        channel.confirm_delivery()
        self._channel = channel
        return channel

    def _discard(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        self._declared.clear()
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except (pika.exceptions.AMQPError, OSError):
                pass  # it is being dropped anyway
