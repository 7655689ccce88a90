"""The message map in code: exchanges, queues, actor names and dead-letter wiring.

Services address each other through these names only; no service imports another's code.
Dramatiq gives every work queue ``Q`` a delay queue ``Q.DQ`` and a dead-letter queue ``Q.XQ``,
both fed by RabbitMQ's dead-letter exchange; Herald's ingress queue follows the same convention.
"""

import uuid
from dataclasses import dataclass

from dramatiq.common import xq_name

from shared.retry_policy import SIGNIN_ALERT_BACKOFF

#: Topic exchange other services publish authentication facts to (routing key = event type).
AUTH_EVENTS_EXCHANGE = "auth.events"
#: auth_events' own durable queue bound to ``AUTH_EVENTS_EXCHANGE``.
AUTH_EVENTS_INGRESS_QUEUE = "auth_events.ingress"
AUTH_EVENTS_ROUTING_KEYS = ("auth.user.signed_in",)

#: notifier's work, split by urgency so a flood of bulk mail never delays a security alert.
NOTIFIER_CRITICAL_QUEUE = "notifier.critical"
NOTIFIER_DEFAULT_QUEUE = "notifier.default"
NOTIFIER_BULK_QUEUE = "notifier.bulk"
NOTIFIER_QUEUES = (NOTIFIER_CRITICAL_QUEUE, NOTIFIER_DEFAULT_QUEUE, NOTIFIER_BULK_QUEUE)

# Herald's job ids are UUIDv5 in this namespace, so the same event always maps to the same job.
_JOB_ID_NAMESPACE = uuid.UUID("6f1d7a52-3c0e-4c59-9a53-8d7e2b8f4a10")


@dataclass(frozen=True)
class ActorRoute:
    """Where a Dramatiq message for one actor goes, and what the job ledger calls it."""

    queue_name: str
    actor_name: str
    job_type: str
    max_attempts: int

    def job_id_for(self, idempotency_key: str) -> str:
        return str(uuid.uuid5(_JOB_ID_NAMESPACE, f"{self.job_type}:{idempotency_key}"))


SEND_SIGNIN_ALERT = ActorRoute(
    queue_name=NOTIFIER_CRITICAL_QUEUE,
    actor_name="send_signin_alert",
    job_type="signin_alert",
    max_attempts=SIGNIN_ALERT_BACKOFF.max_attempts,
)


def dead_letter_queue(queue_name: str) -> str:
    return xq_name(queue_name)


def dead_letter_queue_arguments(queue_name: str) -> dict[str, str]:
    """Arguments that make RabbitMQ dead-letter rejected messages of ``queue_name`` into its XQ."""
    return {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead_letter_queue(queue_name)}


def declare_auth_events_ingress(channel) -> None:
    """The ``auth.events`` exchange, auth_events' queue bound to it, and that queue's dead letters."""
    channel.exchange_declare(AUTH_EVENTS_EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(dead_letter_queue(AUTH_EVENTS_INGRESS_QUEUE), durable=True)
    channel.queue_declare(
        AUTH_EVENTS_INGRESS_QUEUE, durable=True, arguments=dead_letter_queue_arguments(AUTH_EVENTS_INGRESS_QUEUE)
    )
    for routing_key in AUTH_EVENTS_ROUTING_KEYS:
        channel.queue_bind(AUTH_EVENTS_INGRESS_QUEUE, AUTH_EVENTS_EXCHANGE, routing_key=routing_key)
