"""notifier's handlers wired for tests by production's own builder (bootstrap.build_handler_deps):
real repositories on the test's database, a recording publisher in place of the broker and a
recording email sender, so a test's wiring cannot drift from the service's."""

from dataclasses import replace

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session, sessionmaker

from services.notifier.api import NotifierApiDeps, build_app
from services.notifier.bootstrap import NotifierHandlerDeps, NotifierPolicies, build_handler_deps
from services.notifier.digests.handlers import DigestPolicy
from services.notifier.email.message import EmailSender
from services.notifier.jobs.routes import JobsApiDeps
from services.notifier.maintenance.deps import RetentionPolicy, WatchdogPolicy
from services.notifier.maintenance.routes import MaintenanceApiDeps
from services.notifier.notifications.handlers import NotificationDeps
from services.notifier.notifications.rendering import NotificationTemplates
from services.notifier.notifications.routes import NotificationApiDeps
from services.notifier.signin_alerts.handlers import SignInAlertPolicy
from shared.clock import Clock
from shared.jobs.dead_letters import DeadLetterArchive
from shared.jobs.intake import JobIntake
from shared.jobs.ledger import JobLedger
from shared.schemas import DeliverNotificationV1
from tests.fakes.email import RecordingEmailSender
from tests.fakes.publisher import RecordingPublisher

FROM_HEADER = "Herald <no-reply@localhost>"

#: The settings' defaults, written out; a test changes one with ``policies(...)``.
POLICIES = NotifierPolicies(
    signin_alerts=SignInAlertPolicy("Herald", "en", FROM_HEADER, limit_per_hour=10),
    notification_templates=NotificationTemplates(product_name="Herald", default_locale="en"),
    from_header=FROM_HEADER,
    digests=DigestPolicy("Herald", "en", FROM_HEADER),
    retention=RetentionPolicy(),
    watchdog=WatchdogPolicy(),
)


def policies(**changes) -> NotifierPolicies:
    """The test policies with some replaced, e.g. ``policies(retention=RetentionPolicy(batch_size=3))``."""
    return replace(POLICIES, **changes)


def notifier_deps(
    session_factory: sessionmaker[Session],
    clock: Clock,
    *,
    email_sender: EmailSender | None = None,
    policies: NotifierPolicies = POLICIES,
) -> NotifierHandlerDeps:
    ledger = JobLedger(session_factory, clock)
    return build_handler_deps(
        session_factory=session_factory,
        ledger=ledger,
        intake=JobIntake(session_factory, ledger, RecordingPublisher()),
        clock=clock,
        email_sender=email_sender or RecordingEmailSender(),
        policies=policies,
    )


def start_delivery(deps: NotificationDeps, job_id: str) -> DeliverNotificationV1:
    """Take the job's message off the recording publisher and start its attempt, as a worker would."""
    [message] = [m for m in deps.intake.publisher.sent if m.message_id == job_id]
    deps.ledger.start_attempt(job_id, job_type="notification", max_attempts=5, correlation_id=None)
    return DeliverNotificationV1.model_validate(message.payload)


def notifier_app(session_factory: sessionmaker[Session], clock: Clock, *, api_keys: list[str] | None = None) -> FastAPI:
    """notifier's HTTP app, as its bootstrap builds it, over the test's database and fakes."""
    api_keys = api_keys or []
    ledger = JobLedger(session_factory, clock)
    return build_app(
        NotifierApiDeps(
            jobs=JobsApiDeps(
                ledger=ledger,
                dead_letters=DeadLetterArchive(session_factory, ledger, clock),
                replay_publish=lambda *_: None,
                admin_token="",
                api_keys=api_keys,
            ),
            notifications=NotificationApiDeps(
                handler_deps=notifier_deps(session_factory, clock).notifications,
                api_keys=api_keys,
                max_event_bytes=64 * 1024,
                count=lambda *_: None,
            ),
            maintenance=MaintenanceApiDeps(session_factory, admin_token=""),
            readiness_checks={},
            metrics_registry=CollectorRegistry(),
        )
    )
