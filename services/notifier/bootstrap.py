"""notifier's composition root: the only place that reads configuration and builds adapters."""

from dataclasses import dataclass
from functools import partial

import httpx
from sqlalchemy.orm import Session, sessionmaker

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
from shared.jobs.ledger import JobLedger
from shared.jobs.rate_limit import SlidingWindowLimit
from shared.runtime.platform import (
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
    handler_deps = build_handler_deps(
        session_factory=platform.session_factory,
        ledger=platform.ledger,
        intake=intake,
        clock=platform.clock,
        email_sender=email_sender,
        policies=build_policies(settings),
    )
    notification_deps = handler_deps.notifications
    declare_signin_alert_actors(broker, handler_deps.signin_alerts)
    declare_notification_actors(broker, notification_deps)
    declare_scheduled_actors(broker, handler_deps.digests, handler_deps.maintenance)
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


@dataclass(frozen=True)
class NotifierPolicies:
    """What the configuration decides for each capability: plain values, so a test writes its own."""

    signin_alerts: SignInAlertPolicy
    notification_templates: NotificationTemplates
    #: The From header of notifications (sign-in alerts, digests and the watchdog carry their own).
    from_header: str
    digests: DigestPolicy
    retention: RetentionPolicy
    watchdog: WatchdogPolicy


@dataclass(frozen=True)
class NotifierHandlerDeps:
    """Each capability's dependencies, as the actors, consumers and routes are given them."""

    signin_alerts: SignInAlertDeps
    notifications: NotificationDeps
    digests: DigestDeps
    maintenance: MaintenanceDeps


def build_policies(settings: NotifierSettings) -> NotifierPolicies:
    return NotifierPolicies(
        signin_alerts=SignInAlertPolicy(
            product_name=settings.product_name,
            default_locale=settings.default_locale,
            from_header=settings.email_from,
            limit_per_hour=settings.signin_alert_limit_per_hour,
        ),
        notification_templates=NotificationTemplates(
            product_name=settings.product_name, default_locale=settings.default_locale
        ),
        from_header=settings.email_from,
        digests=DigestPolicy(settings.product_name, settings.default_locale, settings.email_from),
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


def build_handler_deps(
    *,
    session_factory: sessionmaker[Session],
    ledger: JobLedger,
    intake: JobIntake,
    clock: Clock,
    email_sender: EmailSender,
    policies: NotifierPolicies,
) -> NotifierHandlerDeps:
    """Every capability's dependencies from plain parts; each store is built once and shared, so
    what one capability records (a delivery, an outcome, a preference) the others read alike.
    Tests call this with fakes (an in-memory database, a fake clock, a recording sender)."""
    delivery_log = DeliveryLog(clock)
    outcomes = OutcomeLog(clock)
    preferences = PreferenceStore(clock)
    return NotifierHandlerDeps(
        signin_alerts=SignInAlertDeps(
            session_factory=session_factory,
            ledger=ledger,
            delivery_log=delivery_log,
            rate_limit=SlidingWindowLimit(clock),
            email_sender=email_sender,
            policy=policies.signin_alerts,
            outcomes=outcomes,
        ),
        notifications=NotificationDeps(
            session_factory=session_factory,
            ledger=ledger,
            intake=intake,
            templates=policies.notification_templates,
            notifications=NotificationStore(clock),
            outcomes=outcomes,
            delivery_log=delivery_log,
            preferences=preferences,
            email_sender=email_sender,
            from_header=policies.from_header,
        ),
        digests=DigestDeps(
            session_factory=session_factory,
            store=DigestStore(clock),
            preferences=preferences,
            outcomes=outcomes,
            email_sender=email_sender,
            policy=policies.digests,
        ),
        maintenance=MaintenanceDeps(
            session_factory=session_factory,
            clock=clock,
            email_sender=email_sender,
            retention=policies.retention,
            watchdog=policies.watchdog,
        ),
    )
