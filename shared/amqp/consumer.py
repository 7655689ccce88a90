"""A pika consumer on its own thread: reconnects, stops gracefully, never drops a delivery.

Used for queues that do not carry Dramatiq messages: foreign events coming in, and dead
letters going to the archive. ``handle`` settles each delivery itself (ack, or dead-letter);
if it raises ``TransientError`` the delivery is requeued after a pause, and any other
exception dead-letters it with the exception's text (reason ``unexpected_error``), so a poison
message is neither lost, nor redelivered forever, nor archived without saying what went wrong.
A consumer of dead-letter queues passes ``requeue_on_error``: there, a rejected delivery would
have nowhere left to go, so it is kept (requeued after a pause) rather than dropped.
"""

import copy
import functools
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pika
import pika.exceptions
from dramatiq.common import xq_name
from pika.adapters.blocking_connection import BlockingChannel

from shared.broker import with_connection_defaults
from shared.errors import TransientError

logger = logging.getLogger("herald.amqp")

RECONNECT_DELAY_S = 2.0

#: Headers a Herald consumer sets when it dead-letters a delivery itself, to say why.
REASON_HEADER = "x-herald-reason"
ERROR_HEADER = "x-herald-error"
#: Names one dead letter. It travels with the message in the dead-letter queue, so a redelivery
#: of it to the archiver is recognised as the same dead letter and stored once.
DEAD_LETTER_ID_HEADER = "x-herald-dead-letter-id"
#: An error text longer than this is cut: headers share one AMQP frame (128 KiB by default).
MAX_ERROR_CHARS = 4000


def describe_exception(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass
class Delivery:
    queue_name: str
    channel: BlockingChannel
    method: pika.spec.Basic.Deliver
    properties: pika.BasicProperties
    body: bytes

    @property
    def headers(self) -> dict:
        return self.properties.headers or {}

    def ack(self) -> None:
        self.channel.basic_ack(self.method.delivery_tag)

    def dead_letter(self) -> None:
        """Reject without requeue: RabbitMQ moves it through the queue's dead-letter exchange."""
        self.channel.basic_nack(self.method.delivery_tag, requeue=False)

    def requeue(self) -> None:
        self.channel.basic_nack(self.method.delivery_tag, requeue=True)

    def dead_letter_with_reason(self, reason: str, error: str) -> None:
        """Move the delivery to its queue's dead-letter queue with why, then ack it.

        A plain nack would only say "rejected". Publishing ourselves (confirmed) before the ack
        keeps the reason and error with the message, and gives it the id that makes it one row
        in the archive. If the process dies between the publish and the ack, the delivery comes
        back and is dead-lettered again: a duplicate in that window, never a loss.
        """
        headers = {
            REASON_HEADER: reason,
            ERROR_HEADER: error[:MAX_ERROR_CHARS],
            DEAD_LETTER_ID_HEADER: uuid.uuid4().hex,
        }
        try:
            self.publish(xq_name(self.queue_name), self.body, headers)
        except pika.exceptions.UnroutableError:
            # No dead-letter queue to publish to: let RabbitMQ's own dead-lettering have it.
            self.dead_letter()
            return
        self.ack()
        logger.warning("delivery dead-lettered", extra={"queue": self.queue_name, "reason": reason, "error": error})

    def publish(self, queue_name: str, body: bytes, headers: dict) -> None:
        """Publish on this channel (confirmed: the consumer channel is in confirm mode), with the
        delivery's properties (message id, timestamp, correlation id...) and ``headers`` added."""
        properties = copy.copy(self.properties)
        properties.delivery_mode = 2
        # A per-message TTL would let the copy expire where it is kept (RabbitMQ's own
        # dead-lettering drops it too).
        properties.expiration = None
        properties.headers = {**self.headers, **headers}
        # mandatory: a queue that is missing must be an error, not a confirmed drop.
        self.channel.basic_publish(exchange="", routing_key=queue_name, body=body, properties=properties, mandatory=True)


class QueueConsumer:
    def __init__(
        self,
        name: str,
        amqp_url: str,
        queues: list[str],
        handle: Callable[[Delivery], None],
        declare: Callable[[BlockingChannel], None],
        prefetch: int = 32,
        requeue_on_error: bool = False,
    ) -> None:
        self.name = name
        self._parameters = pika.URLParameters(with_connection_defaults(amqp_url))
        self._queues = queues
        self._handle = handle
        self._declare = declare
        self._prefetch = prefetch
        self._requeue_on_error = requeue_on_error
        self._stopping = threading.Event()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the delivery in hand, then close; unacked prefetched deliveries go back to the queue."""
        self._stopping.set()
        connection, channel = self._connection, self._channel
        if connection is not None and channel is not None:
            try:
                connection.add_callback_threadsafe(channel.stop_consuming)
            except pika.exceptions.AMQPError:
                pass  # already closed: the run loop is leaving anyway
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._consume()
            except pika.exceptions.AMQPError as error:
                logger.warning("consumer lost its connection", extra={"consumer": self.name, "error": repr(error)})
            finally:
                self.connected.clear()
                self._close()
            self._stopping.wait(RECONNECT_DELAY_S)

    def _consume(self) -> None:
        self._connection = pika.BlockingConnection(self._parameters)
        self._channel = channel = self._connection.channel()
        channel.confirm_delivery()
        self._declare(channel)
        channel.basic_qos(prefetch_count=self._prefetch)
        for queue in self._queues:
            channel.basic_consume(queue, functools.partial(self._on_message, queue))
        self.connected.set()
        logger.info("consumer started", extra={"consumer": self.name, "queues": self._queues})
        if not self._stopping.is_set():
            channel.start_consuming()

    def _on_message(self, queue_name, channel, method, properties, body) -> None:
        delivery = Delivery(queue_name, channel, method, properties, body)
        try:
            self._handle(delivery)
        except TransientError as error:
            logger.warning("delivery requeued", extra={"consumer": self.name, "error": str(error)})
            self._stopping.wait(RECONNECT_DELAY_S)  # do not spin on a dependency that is down
            delivery.requeue()
        except pika.exceptions.AMQPError:
            raise
        except Exception as error:
            if self._requeue_on_error:
                logger.exception("delivery failed; keeping it in its queue", extra={"consumer": self.name})
                self._stopping.wait(RECONNECT_DELAY_S)
                delivery.requeue()
            else:
                logger.exception("delivery failed unexpectedly; dead-lettering it", extra={"consumer": self.name})
                delivery.dead_letter_with_reason("unexpected_error", describe_exception(error))

    def _close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except pika.exceptions.AMQPError:
                pass
