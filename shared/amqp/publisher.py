"""Sending Dramatiq messages to another service's actor by name, with publisher confirms."""

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import dramatiq
import pika
import pika.exceptions
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.errors import BrokerConnectionError

from shared.errors import TransientError
from shared.middleware.correlation import OPTION as CORRELATION_OPTION
from shared.topology import ActorRoute


class PublishFailed(TransientError):
    """RabbitMQ did not confirm the message: the caller must not report it accepted."""


@dataclass(frozen=True)
class Outgoing:
    """A message for ``route``'s actor; ``correlation_id`` None: the current one, or a new one."""

    route: ActorRoute
    payload: dict
    message_id: str
    correlation_id: str | None = None


class Publisher(Protocol):
    def send(self, route: ActorRoute, payload: dict, *, message_id: str) -> None:
        """Return only once the broker has the message; raise PublishFailed otherwise."""
        ...

    def send_many(self, messages: Sequence[Outgoing]) -> None:
        """Return only once the broker has every message; raise PublishFailed otherwise (some
        may have arrived: consumers are idempotent on the message id)."""
        ...


_AMQP_ERRORS = (BrokerConnectionError, pika.exceptions.AMQPError, OSError)
SEND_MANY_ATTEMPTS = 2


class DramatiqPublisher:
    def __init__(self, broker: RabbitmqBroker) -> None:
        self._broker = broker
        self._local = threading.local()

    def send(self, route: ActorRoute, payload: dict, *, message_id: str) -> None:
        self._enqueue_confirmed(Outgoing(route, payload, message_id))

    def send_many(self, messages: Sequence[Outgoing]) -> None:
        """Publish in one AMQP transaction: a single round trip (tx.commit-ok, after RabbitMQ has
        written them) instead of a confirm waited for per message. One message goes the usual
        way, confirmed."""
        if len(messages) == 1:
            self._enqueue_confirmed(messages[0])
            return
        enqueued = [_message(outgoing) for outgoing in messages]
        for attempt in range(1, SEND_MANY_ATTEMPTS + 1):
            try:
                self._publish_in_transaction(enqueued)
                break
            except _AMQP_ERRORS as error:
                # Uncommitted messages die with their channel, so trying again on a fresh
                # connection sends nothing twice (a lost commit-ok would: consumers are
                # idempotent on the message id). Dramatiq's enqueue retries the same way.
                self._drop_connection()
                if attempt == SEND_MANY_ATTEMPTS:
                    raise PublishFailed(f"broker did not take the batch: {type(error).__name__}: {error}") from error
        for message in enqueued:
            self._broker.emit_after("enqueue", message, None)

    def _publish_in_transaction(self, enqueued: list[dramatiq.Message]) -> None:
        channel = self._transaction_channel()
        for message in enqueued:
            self._broker.declare_queue(message.queue_name, ensure=True)
            self._broker.emit_before("enqueue", message, None)
            channel.basic_publish(
                exchange="",
                routing_key=message.queue_name,
                body=message.encode(),
                properties=pika.BasicProperties(delivery_mode=2, priority=message.options.get("broker_priority")),
                mandatory=True,
            )
        channel.tx_commit()
        # Returns arrive before commit-ok, but pika hands them to the callback only when it
        # next processes events: now, without waiting for more.
        channel.connection.process_data_events(time_limit=0)
        returned, self._local.returned = self._local.returned, 0
        if returned:
            # RabbitMQ sends the returns before commit-ok: a queue was deleted under us. Have
            # Dramatiq declare the queues again on the next try, as its own enqueue does.
            self._broker.queues_pending.update(message.queue_name for message in enqueued)
            raise pika.exceptions.UnroutableError([])

    def _enqueue_confirmed(self, outgoing: Outgoing) -> None:
        try:
            self._broker.enqueue(_message(outgoing))
        except _AMQP_ERRORS as error:
            raise PublishFailed(f"broker did not confirm: {type(error).__name__}: {error}") from error

    def _transaction_channel(self) -> pika.adapters.blocking_connection.BlockingChannel:
        # Beside the broker's confirming channel, on the same per-thread connection (pika is not
        # thread-safe); a channel is in confirm mode or transaction mode, never both.
        channel = getattr(self._local, "channel", None)
        if channel is None or channel.is_closed:
            channel = self._broker.connection.channel()
            channel.tx_select()
            channel.add_on_return_callback(self._count_return)
            self._local.channel, self._local.returned = channel, 0
        return channel

    def _count_return(self, *_: object) -> None:
        self._local.returned += 1

    def _drop_connection(self) -> None:
        self._local.channel = None
        del self._broker.connection  # the next publish starts a fresh connection, as Dramatiq does


def _message(outgoing: Outgoing) -> dramatiq.Message:
    options = {CORRELATION_OPTION: outgoing.correlation_id} if outgoing.correlation_id else {}
    return dramatiq.Message(
        queue_name=outgoing.route.queue_name,
        actor_name=outgoing.route.actor_name,
        args=(outgoing.payload,),
        kwargs={},
        options=options,
        message_id=outgoing.message_id,
    )


def publish_raw(broker: RabbitmqBroker, queue_name: str, body: bytes) -> None:
    """Publish bytes to a queue on the broker's confirmed channel (replaying a dead letter)."""
    try:
        broker.channel.basic_publish(
            exchange="",
            routing_key=queue_name,
            body=body,
            properties=pika.BasicProperties(delivery_mode=2),
            mandatory=True,
        )
    except (pika.exceptions.AMQPError, OSError) as error:
        del broker.connection  # let the next publish start a fresh connection
        raise PublishFailed(f"broker did not confirm: {type(error).__name__}: {error}") from error
