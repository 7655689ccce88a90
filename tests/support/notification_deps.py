"""notifier's notification handlers wired for tests: real repositories on the test's database,
with a recording publisher in place of the broker and a recording email sender."""

from sqlalchemy.orm import Session, sessionmaker

from services.notifier.email.delivery_log import DeliveryLog
from services.notifier.email.outcomes import OutcomeLog
from services.notifier.notifications.handlers import NotificationDeps
from services.notifier.notifications.rendering import NotificationTemplates
from services.notifier.notifications.store import NotificationStore
from services.notifier.preferences.store import PreferenceStore
from shared.jobs.intake import JobIntake
from shared.jobs.ledger import JobLedger
from shared.schemas import DeliverNotificationV1
from tests.fakes.clock import FakeClock
from tests.fakes.email import RecordingEmailSender
from tests.fakes.publisher import RecordingPublisher


def notification_deps(session_factory: sessionmaker[Session], clock: FakeClock) -> NotificationDeps:
    ledger = JobLedger(session_factory, clock)
    return NotificationDeps(
        session_factory=session_factory,
        ledger=ledger,
        intake=JobIntake(session_factory, ledger, RecordingPublisher()),
        templates=NotificationTemplates(product_name="Herald", default_locale="en"),
        notifications=NotificationStore(clock),
        outcomes=OutcomeLog(clock),
        delivery_log=DeliveryLog(clock),
        preferences=PreferenceStore(clock),
        email_sender=RecordingEmailSender(),
        from_header="Herald <no-reply@localhost>",
    )


def start_delivery(deps: NotificationDeps, job_id: str) -> DeliverNotificationV1:
    """Take the job's message off the recording publisher and start its attempt, as a worker would."""
    [message] = [m for m in deps.intake.publisher.sent if m.message_id == job_id]
    deps.ledger.start_attempt(job_id, job_type="notification", max_attempts=5, correlation_id=None)
    return DeliverNotificationV1.model_validate(message.payload)
