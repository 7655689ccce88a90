"""Sending Dramatiq messages to another service's actor by name, with publisher confirms."""

from typing import Protocol

import dramatiq
import pika
import pika.exceptions
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.errors import BrokerConnectionError

from shared.errors import TransientError
from shared.topology import ActorRoute


class PublishFailed(TransientError):
    """RabbitMQ did not confirm the message: the caller must not report it accepted."""


class Publisher(Protocol):
    def send(self, route: ActorRoute, payload: dict, *, message_id: str) -> None:
        """Return only once the broker has the message; raise PublishFailed otherwise."""
        ...


class DramatiqPublisher:
    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker

    def send(self, route: ActorRoute, payload: dict, *, message_id: str) -> None:
        message = dramatiq.Message(
            queue_name=route.queue_name,
            actor_name=route.actor_name,
            args=(payload,),
            kwargs={},
            options={},
            message_id=message_id,
        )
        try:
            self._broker.enqueue(message)
        except (BrokerConnectionError, pika.exceptions.AMQPError, OSError) as error:
            raise PublishFailed(f"broker did not confirm: {type(error).__name__}: {error}") from error


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
