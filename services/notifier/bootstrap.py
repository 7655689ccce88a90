"""notifier's composition root: the only place that reads configuration and builds adapters."""

from functools import partial

import httpx

from services.migrations.migrate import schema_is_current
from services.notifier.actors import declare_notification_actors, declare_scheduled_actors, declare_signin_alert_actors
from services.notifier.api import NotifierApiDeps, build_app
from services.notifier.consumers import ScheduledEventsDeps, scheduled_events_handler
from services.notifier.digests.handlers import DigestDeps, DigestPolicy
from services.notifier.digests.store import DigestStore
from services.notifier.email.delivery_log import DeliveryLog
from services.notifier.email.message import EmailSender
from services.notifier.email.outcomes import OutcomeLog
from services.notifier.email.transports.build import build_email_sender
from services.notifier.jobs.routes import JobsApiDeps
from services.notifier.maintenance.deps import MaintenanceDeps, RetentionPolicy, WatchdogPolicy
from services.notifier.maintenance.routes import MaintenanceApiDeps
from services.notifier.notifications.handlers import NotificationDeps, accept_notification
from services.notifier.notifications.rendering import NotificationTemplates
from services.notifier.notifications.routes import NotificationApiDeps
from services.notifier.notifications.store import NotificationStore
from services.notifier.preferences.store import PreferenceStore
from services.notifier.settings import NotifierSettings
from services.notifier.signin_alerts.handlers import SignInAlertDeps, SignInAlertPolicy
from shared.amqp.consumer import QueueConsumer
from shared.amqp.event_consumer import event_handler
from shared.amqp.publisher import DramatiqPublisher, publish_raw
from shared.clock import Clock
from shared.jobs.intake import JobIntake
from shared.jobs.intake_metrics import IngressMetrics
from shared.jobs.rate_limit import SlidingWindowLimit
from shared.runtime.platform import (
    Platform,
    StartupError,
    build_platform,
    dead_letter_archiver,
    ingress_dead_letter_archiver,
)
from shared.runtime.service import HttpServer, Service, WorkerPool
from shared.schemas import NotificationRequestedV1
from shared.topology import (
    NOTIFIER_BULK_QUEUE,
    NOTIFIER_CRITICAL_QUEUE,
    NOTIFIER_DEFAULT_QUEUE,
    NOTIFIER_QUEUES,
    NOTIFIER_REQUESTS,
    NOTIFIER_SCHEDULED,
)
from shared.web.health import consumer_check
from shared.web.metrics import LedgerCollector

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
    platform = build_platform(settings, runs_workers=True, schema_is_current=schema_is_current, clock=clock)
    http_client = httpx.Client(timeout=HTTP_TIMEOUT, limits=httpx.Limits(max_keepalive_connections=20))
    if email_sender is None:
        try:
            email_sender = build_email_sender(settings, http_client)
        except ValueError as error:  # a transport setting that cannot work
            raise StartupError(f"email transport: {error}") from error

    broker = platform.broker
    intake = JobIntake(platform.session_factory, platform.ledger, DramatiqPublisher(broker))
    notification_deps = build_notification_deps(settings, platform, intake, email_sender)
    declare_signin_alert_actors(broker, build_signin_alert_deps(settings, platform, email_sender))
    declare_notification_actors(broker, notification_deps)
    declare_scheduled_actors(
        broker,
        build_digest_deps(settings, platform, email_sender),
        build_maintenance_deps(settings, platform, email_sender),
    )
    for queue in NOTIFIER_QUEUES:
        broker.declare_queue(queue, ensure=True)

    # notifier serves the jobs and the dead letters, so it reports their counts too.
    platform.metrics_registry.register(LedgerCollector(platform.ledger, platform.dead_letters))
    ingress_metrics = IngressMetrics(platform.metrics_registry)
    count_requested = ingress_metrics.counter("notification.requested")
    requests_consumer = QueueConsumer(
        name="notifier-requests",
        amqp_url=settings.amqp_url,
        queues=[NOTIFIER_REQUESTS.queue_name],
        handle=event_handler(
            NotificationRequestedV1,
            partial(accept_notification, received_via="amqp", deps=notification_deps),
            count_requested,
        ),
        declare=NOTIFIER_REQUESTS.declare,
    )
    # The scheduler's events (digests due, maintenance due) become jobs on notifier's own queues.
    scheduled_consumer = QueueConsumer(
        name="notifier-scheduled",
        amqp_url=settings.amqp_url,
        queues=[NOTIFIER_SCHEDULED.queue_name],
        handle=scheduled_events_handler(ScheduledEventsDeps(intake), ingress_metrics.counter("scheduler.events")),
        declare=NOTIFIER_SCHEDULED.declare,
    )
    # Dead letters of Dramatiq's work queues, and of the queues of foreign events.
    work_archiver = dead_letter_archiver(platform, "notifier-dead-letters", list(NOTIFIER_QUEUES))
    ingress_archiver = ingress_dead_letter_archiver(
        platform, "notifier-ingress-dead-letters", [NOTIFIER_REQUESTS, NOTIFIER_SCHEDULED]
    )

    app = build_app(
        NotifierApiDeps(
            jobs=JobsApiDeps(
                ledger=platform.ledger,
                dead_letters=platform.dead_letters,
                replay_publish=lambda queue, body: publish_raw(broker, queue, body),
                admin_token=settings.admin_token,
                api_keys=settings.ingress_api_keys,
            ),
            notifications=NotificationApiDeps(
                handler_deps=notification_deps,
                api_keys=settings.ingress_api_keys,
                max_event_bytes=settings.max_event_bytes,
                count=count_requested,
            ),
            maintenance=MaintenanceApiDeps(platform.session_factory, settings.admin_token),
            readiness_checks={
                **platform.readiness_checks(),
                "dead_letter_archiver": consumer_check(work_archiver),
                "ingress_dead_letter_archiver": consumer_check(ingress_archiver),
                "requests_consumer": consumer_check(requests_consumer),
                "scheduled_consumer": consumer_check(scheduled_consumer),
            },
            metrics_registry=platform.metrics_registry,
        )
    )
    return Service(
        name="notifier",
        intake=[
            HttpServer("notifier-http", app, settings.http_host, settings.notifier_port, shared_port=settings.processes > 1),
            requests_consumer,
            scheduled_consumer,
        ],
        work=[
            WorkerPool("notifier-critical", broker, {NOTIFIER_CRITICAL_QUEUE}, settings.critical_worker_threads),
            WorkerPool("notifier-default", broker, {NOTIFIER_DEFAULT_QUEUE}, settings.default_worker_threads),
            WorkerPool("notifier-bulk", broker, {NOTIFIER_BULK_QUEUE}, settings.bulk_worker_threads),
            work_archiver,
            ingress_archiver,
        ],
        on_close=[http_client.close, email_sender.close, platform.close],
    )


def build_signin_alert_deps(settings: NotifierSettings, platform: Platform, email_sender: EmailSender) -> SignInAlertDeps:
    return SignInAlertDeps(
        session_factory=platform.session_factory,
        ledger=platform.ledger,
        delivery_log=DeliveryLog(platform.clock),
        rate_limit=SlidingWindowLimit(platform.clock),
        email_sender=email_sender,
        policy=SignInAlertPolicy(
            product_name=settings.product_name,
            default_locale=settings.default_locale,
            from_header=settings.email_from,
            limit_per_hour=settings.signin_alert_limit_per_hour,
        ),
        outcomes=OutcomeLog(platform.clock),
    )


def build_notification_deps(
    settings: NotifierSettings, platform: Platform, intake: JobIntake, email_sender: EmailSender
) -> NotificationDeps:
    return NotificationDeps(
        session_factory=platform.session_factory,
        ledger=platform.ledger,
        intake=intake,
        templates=NotificationTemplates(product_name=settings.product_name, default_locale=settings.default_locale),
        notifications=NotificationStore(platform.clock),
        outcomes=OutcomeLog(platform.clock),
        delivery_log=DeliveryLog(platform.clock),
        preferences=PreferenceStore(platform.clock),
        email_sender=email_sender,
        from_header=settings.email_from,
    )


def build_digest_deps(settings: NotifierSettings, platform: Platform, email_sender: EmailSender) -> DigestDeps:
    return DigestDeps(
        session_factory=platform.session_factory,
        store=DigestStore(platform.clock),
        preferences=PreferenceStore(platform.clock),
        outcomes=OutcomeLog(platform.clock),
        email_sender=email_sender,
        policy=DigestPolicy(settings.product_name, settings.default_locale, settings.email_from),
    )


def build_maintenance_deps(settings: NotifierSettings, platform: Platform, email_sender: EmailSender) -> MaintenanceDeps:
    return MaintenanceDeps(
        session_factory=platform.session_factory,
        clock=platform.clock,
        email_sender=email_sender,
        retention=RetentionPolicy(
            finished_jobs_days=settings.retention_finished_jobs_days,
            dead_jobs_days=settings.retention_dead_jobs_days,
            dead_letters_days=settings.retention_dead_letters_days,
            notifications_days=settings.retention_notifications_days,
            undelivered_notifications_days=settings.retention_undelivered_notifications_days,
        ),
        watchdog=WatchdogPolicy(
            threshold=settings.dlq_alert_threshold,
            repeat_hours=settings.dlq_alert_repeat_hours,
            admin_email=settings.admin_email,
            from_header=settings.email_from,
            product_name=settings.product_name,
        ),
    )
