"""The sign-in alert handler records what became of each alert, for the statistics."""

import pytest
from sqlalchemy import select

from services.notifier.adapters.notification_store import OutcomeLog
from services.notifier.email import PermanentEmailError
from services.notifier.handlers import send_signin_alert
from services.notifier.tables import NotificationOutcome
from tests.unit.test_signin_alert_handler import clock, command, deps  # noqa: F401  (fixtures)


@pytest.fixture
def recording_deps(deps, clock):  # noqa: F811
    deps.outcomes = OutcomeLog(clock)
    return deps


def outcomes(deps):
    with deps.session_factory() as session:
        rows = session.execute(
            select(NotificationOutcome.job_id, NotificationOutcome.category, NotificationOutcome.channel,
                   NotificationOutcome.outcome, NotificationOutcome.reason, NotificationOutcome.occurred_at)
            .order_by(NotificationOutcome.job_id)
        )
        return [tuple(row) for row in rows]


def test_sent_rate_limited_and_refused_alerts_are_recorded_as_security_email_outcomes(recording_deps, clock):
    for n in range(3):
        send_signin_alert(command(n), recording_deps)
    send_signin_alert(command(3), recording_deps)  # over the limit of 3
    recording_deps.email_sender.fail_next(PermanentEmailError("550"))
    with pytest.raises(PermanentEmailError):
        send_signin_alert(command(4, user_id="u-2"), recording_deps)
    send_signin_alert(command(0), recording_deps)  # redelivered: nothing new

    now = clock.now()
    assert outcomes(recording_deps) == [
        ("job-0", "security", "email", "sent", None, now),
        ("job-1", "security", "email", "sent", None, now),
        ("job-2", "security", "email", "sent", None, now),
        ("job-3", "security", "email", "skipped", "rate_limited", now),
        ("job-4", "security", "email", "failed", "permanent_error", now),
    ]
