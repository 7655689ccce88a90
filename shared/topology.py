"""The message map in code: exchanges, queues, actor names and dead-letter wiring.

Services address each other through these names only; no service imports another's code.
Dramatiq gives every work queue ``Q`` a delay queue ``Q.DQ`` and a dead-letter queue ``Q.XQ``,
both fed by RabbitMQ's dead-letter exchange; Herald's ingress queue follows the same convention.
"""

import uuid
from dataclasses import dataclass

from dramatiq.common import xq_name

#: Topic exchange other services publish authentication facts to (routing key = event type).
AUTH_EVENTS_EXCHANGE = "auth.events"
#: auth_events' own durable queue bound to ``AUTH_EVENTS_EXCHANGE``.
AUTH_EVENTS_INGRESS_QUEUE = "auth_events.ingress"
AUTH_EVENTS_ROUTING_KEYS = ("auth.user.signed_in",)

#: Topic exchange other services publish notification requests to.
NOTIFICATIONS_EXCHANGE = "notifications"
NOTIFICATION_REQUESTED_KEY = "notification.requested"
#: notifier's own durable queue bound to ``NOTIFICATIONS_EXCHANGE``.
NOTIFIER_REQUESTS_QUEUE = "notifier.requests"

#: Topic exchange the scheduler emits to; the owners of the data bind queues of their own.
SCHEDULER_EXCHANGE = "scheduler.events"
DIGEST_DUE_KEY = "digest.due"
#: notifier's queue of scheduler events: digests and its maintenance tasks.
NOTIFIER_SCHEDULED_QUEUE = "notifier.scheduled"
#: auth_events' queue of scheduler events: retention of the sign-in history.
AUTH_EVENTS_MAINTENANCE_QUEUE = "auth_events.maintenance"


def maintenance_key(task: str) -> str:
    """Routing key of a ``maintenance.due`` event for ``task``."""
    return f"maintenance.{task}.due"


#: notifier's work, split by urgency so a flood of bulk mail never delays a security alert.
NOTIFIER_CRITICAL_QUEUE = "notifier.critical"
NOTIFIER_DEFAULT_QUEUE = "notifier.default"
NOTIFIER_BULK_QUEUE = "notifier.bulk"
NOTIFIER_QUEUES = (NOTIFIER_CRITICAL_QUEUE, NOTIFIER_DEFAULT_QUEUE, NOTIFIER_BULK_QUEUE)

# Herald's job ids are UUIDv5 in this namespace, so the same event always maps to the same job.
_JOB_ID_NAMESPACE = uuid.UUID("6f1d7a52-3c0e-4c59-9a53-8d7e2b8f4a10")


@dataclass(frozen=True)
class BackoffSchedule:
    """An actor's retries, exactly: Dramatiq's own backoff is jittered upward, Herald's names
    the delays (DESIGN §3). Workers apply it (``shared.jobs.retry_policy``, the
    ``ScheduledRetries`` middleware); the job ledger counts its attempts."""

    #: Delay before each retry, in milliseconds; its length is the number of retries.
    delays_ms: tuple[int, ...]

    @property
    def max_retries(self) -> int:
        return len(self.delays_ms)

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1


#: Work that is not as urgent as a security alert (notifications, digests, maintenance): the
#: same exponential shape, stretched.
DEFAULT_BACKOFF = BackoffSchedule((5_000, 20_000, 80_000, 320_000))


@dataclass(frozen=True)
class ActorRoute:
    """Where a Dramatiq message for one actor goes, what the job ledger calls it, and how it is
    retried: the one place an actor's schedule is declared. The actor is declared from it, and
    whoever enqueues (auth_events too, without importing notifier) records its attempts."""

    queue_name: str
    actor_name: str
    job_type: str
    backoff: BackoffSchedule

    @property
    def max_attempts(self) -> int:
        return self.backoff.max_attempts

    def job_id_for(self, idempotency_key: str) -> str:
        return str(uuid.uuid5(_JOB_ID_NAMESPACE, f"{self.job_type}:{idempotency_key}"))


SEND_SIGNIN_ALERT = ActorRoute(
    queue_name=NOTIFIER_CRITICAL_QUEUE,
    actor_name="send_signin_alert",
    job_type="signin_alert",
    #: 5 attempts: now, then +2 s, +4 s, +8 s, +16 s (DESIGN §3).
    backoff=BackoffSchedule((2_000, 4_000, 8_000, 16_000)),
)


#: A notification request's priority picks its queue: high never waits behind bulk.
DELIVER_NOTIFICATION = {
    priority: ActorRoute(
        queue_name=queue,
        actor_name=f"deliver_notification_{priority}",
        job_type="notification",
        backoff=DEFAULT_BACKOFF,
    )
    for priority, queue in (
        ("high", NOTIFIER_CRITICAL_QUEUE),
        ("normal", NOTIFIER_DEFAULT_QUEUE),
        ("low", NOTIFIER_BULK_QUEUE),
    )
}

SEND_DIGESTS = ActorRoute(
    queue_name=NOTIFIER_BULK_QUEUE,
    actor_name="send_digests",
    job_type="digest_batch",
    backoff=DEFAULT_BACKOFF,
)

RUN_MAINTENANCE = ActorRoute(
    queue_name=NOTIFIER_BULK_QUEUE,
    actor_name="run_maintenance",
    job_type="maintenance",
    backoff=DEFAULT_BACKOFF,
)


def dead_letter_queue(queue_name: str) -> str:
    return xq_name(queue_name)


def dead_letter_queue_arguments(queue_name: str) -> dict[str, str]:
    """Arguments that make RabbitMQ dead-letter rejected messages of ``queue_name`` into its XQ."""
    return {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead_letter_queue(queue_name)}


@dataclass(frozen=True)
class IngressQueue:
    """A durable queue of foreign events bound to a topic exchange, with its dead-letter queue."""

    exchange: str
    queue_name: str
    routing_keys: tuple[str, ...]

    def declare(self, channel) -> None:
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        channel.queue_declare(dead_letter_queue(self.queue_name), durable=True)
        channel.queue_declare(self.queue_name, durable=True, arguments=dead_letter_queue_arguments(self.queue_name))
        for routing_key in self.routing_keys:
            channel.queue_bind(self.queue_name, self.exchange, routing_key=routing_key)


AUTH_EVENTS_INGRESS = IngressQueue(AUTH_EVENTS_EXCHANGE, AUTH_EVENTS_INGRESS_QUEUE, AUTH_EVENTS_ROUTING_KEYS)
AUTH_EVENTS_MAINTENANCE = IngressQueue(
    SCHEDULER_EXCHANGE, AUTH_EVENTS_MAINTENANCE_QUEUE, (maintenance_key("retention"),)
)
NOTIFIER_REQUESTS = IngressQueue(NOTIFICATIONS_EXCHANGE, NOTIFIER_REQUESTS_QUEUE, (NOTIFICATION_REQUESTED_KEY,))
NOTIFIER_SCHEDULED = IngressQueue(
    SCHEDULER_EXCHANGE, NOTIFIER_SCHEDULED_QUEUE, (DIGEST_DUE_KEY, maintenance_key("*"))
)

