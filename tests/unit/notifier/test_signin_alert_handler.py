"""notifier's sign-in alert handler with fakes: idempotency, the rate limit, failures, the outcomes it records.

The handler's repositories run on an in-memory SQLite database (cheap and real); the email
transport and the clock are the project's fakes.
"""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from services.notifier.email.message import PermanentEmailError, TransientEmailError
from services.notifier.signin_alerts.handlers import AlertOutcome, SignInAlertPolicy, send_signin_alert
from services.notifier.tables import NotificationOutcome
from shared.jobs.ledger import JobStatus
from shared.schemas import SendSignInAlertV1
from tests.fakes.clock import FakeClock
from tests.support.databases import in_memory_session_factory
from tests.support.notifier_deps import notifier_deps, policies


def command(n: int = 1, user_id: str = "u-1", locale: str = "mn") -> SendSignInAlertV1:
    return SendSignInAlertV1.model_validate(
        {
            "job_id": f"job-{n}",
            "event_id": f"event-{n}",
            "occurred_at": datetime(2026, 11, 23, 8, 15, tzinfo=timezone.utc),
            "user": {"id": user_id, "email": "bat@example.mn", "name": "Бат", "locale": locale},
            "context": {"provider": "github", "ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0"},
        }
    )


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def deps(clock):
    alerts = SignInAlertPolicy("Herald", "en", "Herald <no-reply@localhost>", limit_per_hour=3)
    return notifier_deps(in_memory_session_factory(), clock, policies=policies(signin_alerts=alerts)).signin_alerts


def test_sends_one_email_in_the_users_language(deps):
    assert send_signin_alert(command(), deps) is AlertOutcome.SENT
    [email] = deps.email_sender.sent
    assert email.to_address == "bat@example.mn"
    assert email.subject == "🔐 Таны бүртгэлд нэвтэрсэн байна - Herald"
    assert email.idempotency_key == "job-1"


def test_a_redelivered_job_sends_nothing_more(deps):
    send_signin_alert(command(), deps)
    assert send_signin_alert(command(), deps) is AlertOutcome.ALREADY_SENT
    assert len(deps.email_sender.sent) == 1


def test_over_the_hourly_limit_the_job_is_skipped_as_rate_limited(deps, clock):
    for n in range(3):
        deps.ledger.start_attempt(f"job-{n}", job_type="signin_alert", max_attempts=5, correlation_id=None)
        assert send_signin_alert(command(n), deps) is AlertOutcome.SENT
    deps.ledger.start_attempt("job-3", job_type="signin_alert", max_attempts=5, correlation_id=None)

    assert send_signin_alert(command(3), deps) is AlertOutcome.RATE_LIMITED
    job = deps.ledger.get("job-3")
    assert (job.status, job.reason) == (JobStatus.SKIPPED, "rate_limited")
    assert send_signin_alert(command(4, user_id="u-2"), deps) is AlertOutcome.SENT, "the limit is per user"

    clock.advance(minutes=61)
    assert send_signin_alert(command(5), deps) is AlertOutcome.SENT, "the window slides"
    assert len(deps.email_sender.sent) == 5


def test_a_retried_job_keeps_its_rate_limit_slot(deps):
    deps.email_sender.fail_next(TransientEmailError("503"))
    with pytest.raises(TransientEmailError):
        send_signin_alert(command(1), deps)
    for n in (2, 3):
        send_signin_alert(command(n), deps)
    assert send_signin_alert(command(4), deps) is AlertOutcome.RATE_LIMITED, "the failed job still holds its slot"
    assert send_signin_alert(command(1), deps) is AlertOutcome.SENT, "the retry was already counted"


@pytest.mark.parametrize("error", [TransientEmailError("timeout"), PermanentEmailError("550 no such user")])
def test_a_failed_send_is_not_recorded_as_sent_and_the_error_reaches_the_actor(deps, error):
    deps.email_sender.fail_next(error)
    with pytest.raises(type(error)):
        send_signin_alert(command(), deps)
    with deps.session_factory() as session:
        assert not deps.delivery_log.already_sent(session, "job-1")


def test_a_permanently_refused_alert_gives_its_rate_limit_slot_back(deps):
    deps.email_sender.fail_next(PermanentEmailError("550 no such user"))
    with pytest.raises(PermanentEmailError):
        send_signin_alert(command(1), deps)
    for n in (2, 3, 4):
        assert send_signin_alert(command(n), deps) is AlertOutcome.SENT, "three slots were still free"
    assert send_signin_alert(command(5), deps) is AlertOutcome.RATE_LIMITED


def test_sent_rate_limited_and_refused_alerts_are_recorded_as_security_email_outcomes(deps, clock):
    for n in range(3):
        send_signin_alert(command(n), deps)
    send_signin_alert(command(3), deps)  # over the limit of 3
    deps.email_sender.fail_next(PermanentEmailError("550"))
    with pytest.raises(PermanentEmailError):
        send_signin_alert(command(4, user_id="u-2"), deps)
    send_signin_alert(command(0), deps)  # redelivered: nothing new

    with deps.session_factory() as session:
        outcomes = session.execute(
            select(NotificationOutcome.job_id, NotificationOutcome.category, NotificationOutcome.channel,
                   NotificationOutcome.outcome, NotificationOutcome.reason, NotificationOutcome.occurred_at)
            .order_by(NotificationOutcome.job_id)
        ).all()
    now = clock.now()
    assert [tuple(row) for row in outcomes] == [
        ("job-0", "security", "email", "sent", None, now),
        ("job-1", "security", "email", "sent", None, now),
        ("job-2", "security", "email", "sent", None, now),
        ("job-3", "security", "email", "skipped", "rate_limited", now),
        ("job-4", "security", "email", "failed", "permanent_error", now),
    ]
