"""notifier's composition root: the only place that reads configuration and builds adapters."""

import httpx

from services.notifier.actors import declare_actors
from services.notifier.adapters.delivery_log import DeliveryLog
from services.notifier.adapters.email_senders import build_email_sender
from services.notifier.api import NotifierApiDeps, build_app
from services.notifier.email import EmailSender
from services.notifier.handlers import NotifierDeps, SignInAlertPolicy
from services.notifier.settings import NotifierSettings
from shared.clock import Clock
from shared.health import broker_check, consumer_check, database_check
from shared.metrics import LedgerCollector
from shared.platform import StartupError, build_platform, dead_letter_archiver
from shared.publisher import publish_raw
from shared.rate_limit import SlidingWindowLimit
from shared.runtime import HttpServer, Service, WorkerPool
from shared.topology import NOTIFIER_BULK_QUEUE, NOTIFIER_CRITICAL_QUEUE, NOTIFIER_DEFAULT_QUEUE, NOTIFIER_QUEUES

#: Outbound HTTP (SendGrid): bounded, because a worker thread cannot be interrupted mid-call.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

#: The settings this service reads; ``herald`` builds them first to fail fast on bad values.
SETTINGS_CLASS = NotifierSettings


def bootstrap(
    settings: NotifierSettings | None = None,
    *,
    clock: Clock | None = None,
    email_sender: EmailSender | None = None,
) -> Service:
    settings = settings or NotifierSettings()
    platform = build_platform(settings, runs_workers=True, clock=clock)
    http_client = httpx.Client(timeout=HTTP_TIMEOUT, limits=httpx.Limits(max_keepalive_connections=20))
    if email_sender is None:
        try:
            email_sender = build_email_sender(settings, http_client)
        except ValueError as error:  # a transport setting that cannot work
            raise StartupError(f"email transport: {error}") from error

    deps = NotifierDeps(
        session_factory=platform.session_factory,
        ledger=platform.ledger,
        delivery_log=DeliveryLog(platform.clock),
        rate_limit=SlidingWindowLimit(platform.clock),
        email_sender=email_sender,
        signin_alert_policy=SignInAlertPolicy(
            product_name=settings.product_name,
            default_locale=settings.default_locale,
            from_header=settings.email_from,
            limit_per_hour=settings.signin_alert_limit_per_hour,
        ),
    )
    broker = platform.broker
    declare_actors(broker, deps)
    for queue in NOTIFIER_QUEUES:
        broker.declare_queue(queue, ensure=True)

    # notifier serves the jobs and the dead letters, so it reports their counts too.
    platform.metrics_registry.register(LedgerCollector(platform.ledger, platform.dead_letters))
    archiver = dead_letter_archiver(platform, "notifier-dead-letters", list(NOTIFIER_QUEUES))
    app = build_app(
        NotifierApiDeps(
            ledger=platform.ledger,
            dead_letters=platform.dead_letters,
            replay_publish=lambda queue, body: publish_raw(broker, queue, body),
            admin_token=settings.admin_token,
            readiness_checks={
                "database": database_check(platform.engine),
                "broker": broker_check(settings.amqp_url),
                "dead_letter_archiver": consumer_check(archiver),
            },
            metrics_registry=platform.metrics_registry,
        )
    )
    return Service(
        name="notifier",
        intake=[HttpServer("notifier-http", app, settings.http_host, settings.notifier_port)],
        work=[
            WorkerPool("notifier-critical", broker, {NOTIFIER_CRITICAL_QUEUE}, settings.critical_worker_threads),
            WorkerPool("notifier-default", broker, {NOTIFIER_DEFAULT_QUEUE}, settings.default_worker_threads),
            WorkerPool("notifier-bulk", broker, {NOTIFIER_BULK_QUEUE}, settings.bulk_worker_threads),
            archiver,
        ],
        on_close=[http_client.close, email_sender.close, platform.close],
    )
