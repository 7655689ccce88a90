"""auth_events' composition root: the only place that reads configuration and builds adapters."""

from functools import partial

from services.auth_events.adapters.signin_history import SignInHistory
from services.auth_events.api import AuthEventsApiDeps, build_app
from services.auth_events.handlers import AuthEventsDeps, accept_signed_in
from services.auth_events.retention import SignInRetention
from services.auth_events.settings import AuthEventsSettings
from services.migrations.migrate import schema_is_current
from shared.amqp.consumer import QueueConsumer
from shared.amqp.event_consumer import event_handler
from shared.amqp.publisher import DramatiqPublisher
from shared.clock import Clock
from shared.jobs.intake import JobIntake
from shared.jobs.intake_metrics import IngressMetrics
from shared.runtime.platform import build_platform, ingress_dead_letter_archiver
from shared.runtime.service import HttpServer, Service
from shared.schemas import MaintenanceDueV1, UserSignedInV1
from shared.topology import AUTH_EVENTS_INGRESS, AUTH_EVENTS_MAINTENANCE, SEND_SIGNIN_ALERT
from shared.web.health import consumer_check

#: The settings this service reads; ``herald`` builds them first to fail fast on bad values.
SETTINGS_CLASS = AuthEventsSettings


def bootstrap(settings: AuthEventsSettings | None = None, *, clock: Clock | None = None) -> Service:
    settings = settings or AuthEventsSettings()
    platform = build_platform(settings, runs_workers=False, schema_is_current=schema_is_current, clock=clock)
    # Declared up front so the first request does not pay for it, and so notifier's queue
    # exists (with its dead-letter wiring) even before notifier first starts.
    platform.broker.declare_queue(SEND_SIGNIN_ALERT.queue_name, ensure=True)
    deps = build_handler_deps(
        intake=JobIntake(platform.session_factory, platform.ledger, DramatiqPublisher(platform.broker)),
        clock=platform.clock,
    )
    count_signed_in = IngressMetrics(platform.metrics_registry).counter("auth.user.signed_in")
    ingress = QueueConsumer(
        name="auth-events-ingress",
        amqp_url=settings.amqp_url,
        queues=[AUTH_EVENTS_INGRESS.queue_name],
        handle=event_handler(
            UserSignedInV1, partial(accept_signed_in, received_via="amqp", deps=deps), count_signed_in
        ),
        declare=AUTH_EVENTS_INGRESS.declare,
    )
    # Retention of the sign-in history, when the scheduler says it is due.
    retention = SignInRetention(platform.session_factory, platform.clock, settings.retention_signin_history_days)
    maintenance = QueueConsumer(
        name="auth-events-maintenance",
        amqp_url=settings.amqp_url,
        queues=[AUTH_EVENTS_MAINTENANCE.queue_name],
        handle=event_handler(MaintenanceDueV1, retention.run),
        declare=AUTH_EVENTS_MAINTENANCE.declare,
        prefetch=1,
    )
    # One archiver for the dead letters of both queues of foreign events.
    archiver = ingress_dead_letter_archiver(
        platform, "auth-events-dead-letters", [AUTH_EVENTS_INGRESS, AUTH_EVENTS_MAINTENANCE]
    )
    app = build_app(
        AuthEventsApiDeps(
            handler_deps=deps,
            api_keys=settings.ingress_api_keys,
            max_event_bytes=settings.max_event_bytes,
            readiness_checks={
                **platform.readiness_checks(),
                "ingress_consumer": consumer_check(ingress),
                "maintenance_consumer": consumer_check(maintenance),
            },
            count=count_signed_in,
            metrics_registry=platform.metrics_registry,
        )
    )
    return Service(
        name="auth-events",
        intake=[HttpServer("auth-events-http", app, settings.http_host, settings.auth_events_port, shared_port=settings.processes > 1), ingress, maintenance],
        work=[archiver],
        on_close=[platform.close],
    )


def build_handler_deps(*, intake: JobIntake, clock: Clock) -> AuthEventsDeps:
    """The handlers' dependencies from plain parts; tests call this with a recording publisher."""
    return AuthEventsDeps(intake=intake, history=SignInHistory(clock))
