"""The one place that builds Herald's RabbitmqBroker and its middleware stack."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    ShutdownNotifications,
    TimeLimit,
)
from prometheus_client import CollectorRegistry

from shared.jobs.ledger import JobLedger
from shared.middleware.correlation import CorrelationIds
from shared.middleware.job_ledger import JobLedgerMiddleware
from shared.middleware.metrics import JobMetrics
from shared.middleware.scheduled_retries import ScheduledRetries

# Connection defaults that fail fast instead of hanging a request or a start-up; a URL that
# names its own values keeps them.
AMQP_URL_DEFAULTS = {
    "heartbeat": "30",
    "blocked_connection_timeout": "10",
    "connection_attempts": "1",
    "socket_timeout": "5",
    "stack_timeout": "10",
}

#: Jobs older than this when a worker first sees them die as "expired" instead of running.
MAX_JOB_AGE_MS = 24 * 3600 * 1000
#: Longest a single attempt may run; network calls carry their own, shorter timeouts.
TIME_LIMIT_MS = 60_000


def with_connection_defaults(amqp_url: str) -> str:
    parts = urlsplit(amqp_url)
    query = dict(parse_qsl(parts.query))
    return urlunsplit(parts._replace(query=urlencode({**AMQP_URL_DEFAULTS, **query})))


def build_broker(
    amqp_url: str, *, ledger: JobLedger | None = None, metrics_registry: CollectorRegistry | None = None
) -> RabbitmqBroker:
    """A broker with publisher confirms (an enqueue returns only once RabbitMQ has the message).

    In a process that runs workers, pass ``ledger`` (the ledger middleware records each attempt)
    and ``metrics_registry`` (each attempt is counted and timed).
    The broker becomes Dramatiq's global broker, since Dramatiq's own helpers look it up there.
    """
    middleware: list[dramatiq.Middleware] = [
        AgeLimit(max_age=MAX_JOB_AGE_MS),
        TimeLimit(time_limit=TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        CurrentMessage(),
        CorrelationIds(),
    ]
    if metrics_registry is not None:
        middleware.append(JobMetrics(metrics_registry))
    if ledger is not None:
        middleware.append(JobLedgerMiddleware(ledger))
    # Retries last: its "after" hook runs first, so the ledger sees its verdict.
    middleware.append(ScheduledRetries(max_retries=0))
    broker = RabbitmqBroker(
        url=with_connection_defaults(amqp_url), confirm_delivery=True, middleware=middleware
    )
    dramatiq.set_broker(broker)
    return broker
