"""auth_events' composition root: the only place that reads configuration and builds adapters."""

from services.auth_events.adapters.signin_history import SignInHistory
from services.auth_events.api import AuthEventsApiDeps, build_app
from services.auth_events.consumer import handle_delivery
from services.auth_events.handlers import AuthEventsDeps
from services.auth_events.metrics import IngressMetrics
from services.auth_events.settings import AuthEventsSettings
from shared.amqp_consumer import QueueConsumer
from shared.clock import Clock
from shared.health import broker_check, consumer_check, database_check
from shared.platform import build_platform, dead_letter_archiver
from shared.publisher import DramatiqPublisher
from shared.runtime import HttpServer, Service
from shared.topology import AUTH_EVENTS_INGRESS_QUEUE, SEND_SIGNIN_ALERT, declare_auth_events_ingress

#: The settings this service reads; ``herald`` builds them first to fail fast on bad values.
SETTINGS_CLASS = AuthEventsSettings


def bootstrap(settings: AuthEventsSettings | None = None, *, clock: Clock | None = None) -> Service:
    settings = settings or AuthEventsSettings()
    platform = build_platform(settings, runs_workers=False, clock=clock)
    # Declared up front so the first request does not pay for it, and so notifier's queue
    # exists (with its dead-letter wiring) even before notifier first starts.
    platform.broker.declare_queue(SEND_SIGNIN_ALERT.queue_name, ensure=True)
    deps = AuthEventsDeps(
        session_factory=platform.session_factory,
        ledger=platform.ledger,
        history=SignInHistory(platform.clock),
        publisher=DramatiqPublisher(platform.broker),
    )
    metrics = IngressMetrics(platform.metrics_registry)
    ingress = QueueConsumer(
        name="auth-events-ingress",
        amqp_url=settings.amqp_url,
        queues=[AUTH_EVENTS_INGRESS_QUEUE],
        handle=lambda delivery: handle_delivery(delivery, deps, metrics),
        declare=declare_auth_events_ingress,
    )
    archiver = dead_letter_archiver(
        platform, "auth-events-dead-letters", [AUTH_EVENTS_INGRESS_QUEUE], declare=declare_auth_events_ingress
    )
    app = build_app(
        AuthEventsApiDeps(
            handler_deps=deps,
            api_keys=settings.ingress_api_keys,
            max_event_bytes=settings.max_event_bytes,
            readiness_checks={
                "database": database_check(platform.engine),
                "broker": broker_check(settings.amqp_url),
                "ingress_consumer": consumer_check(ingress),
            },
            metrics=metrics,
            metrics_registry=platform.metrics_registry,
        )
    )
    return Service(
        name="auth-events",
        intake=[HttpServer("auth-events-http", app, settings.http_host, settings.auth_events_port), ingress],
        work=[archiver],
        on_close=[platform.close],
    )
