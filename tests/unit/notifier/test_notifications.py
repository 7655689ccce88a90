"""Notification requests with fakes: intake, then delivery by preferences and channel.

Repositories run on an in-memory SQLite database; the publisher, email transport and clock are
fakes that record what they were given.
"""


import pytest
from sqlalchemy import select

from services.notifier.email.message import PermanentEmailError, TransientEmailError
from services.notifier.notifications.handlers import (
    DeliveryOutcome,
    NotificationDeps,
    accept_notification,
    deliver_notification,
)
from services.notifier.notifications.rendering import TemplateDataError, UnknownTemplate
from services.notifier.preferences.model import Preferences
from services.notifier.tables import EmailDelivery, Notification, NotificationOutcome
from shared.db import unit_of_work
from shared.jobs.ledger import JobStatus
from shared.schemas import DeliverNotificationV1, NotificationRequestedV1
from shared.topology import DELIVER_NOTIFICATION, NOTIFIER_BULK_QUEUE, NOTIFIER_CRITICAL_QUEUE
from tests.fakes.clock import FakeClock
from tests.support.databases import in_memory_session_factory
from tests.support.events import notification_requested
from tests.support.notifier_deps import notifier_deps, start_delivery


def request(n: int = 1, **fields) -> NotificationRequestedV1:
    mention = {
        "template": "comment_mention",
        "data": {"author": "Сараа", "snippet": "Энийг харна уу", "url": "https://app.example.mn/c/1"},
    }
    return NotificationRequestedV1.model_validate(notification_requested(event_id=f"event-{n}", **{**mention, **fields}))


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def deps(clock):
    return notifier_deps(in_memory_session_factory(), clock).notifications


def accept_and_start(event: NotificationRequestedV1, deps: NotificationDeps) -> DeliverNotificationV1:
    """Accept the event and take its message off the fake queue, as a worker would."""
    acceptance = accept_notification(event, received_via="amqp", deps=deps)
    return start_delivery(deps, acceptance.job_id)


def set_preferences(deps: NotificationDeps, preferences: Preferences, user_id: str = "u-1") -> None:
    with unit_of_work(deps.session_factory) as session:
        deps.preferences.put(session, user_id, preferences)


def notification(deps: NotificationDeps, job_id: str) -> Notification:
    with deps.session_factory() as session:
        return session.get(Notification, job_id)


def outcomes(deps: NotificationDeps, job_id: str) -> dict[str, tuple[str, str | None]]:
    with deps.session_factory() as session:
        rows = session.scalars(select(NotificationOutcome).where(NotificationOutcome.job_id == job_id))
        return {row.channel: (row.outcome, row.reason) for row in rows}


# -- intake --


def test_accepting_keeps_the_rendered_notification_and_enqueues_it_by_priority(deps):
    acceptance = accept_notification(request(priority="high"), received_via="http", deps=deps)

    [message] = deps.intake.publisher.sent
    assert message.route == DELIVER_NOTIFICATION["high"]
    assert message.route.queue_name == NOTIFIER_CRITICAL_QUEUE
    assert message.message_id == acceptance.job_id
    stored = notification(deps, acceptance.job_id)
    assert stored.title == "Сараа таныг сэтгэгдэлдээ дурдлаа"
    assert stored.locale == "mn"
    assert (stored.in_app, stored.digest_state) == (False, None)
    assert deps.ledger.get(acceptance.job_id).status == JobStatus.ENQUEUED


def test_low_priority_goes_to_the_bulk_queue(deps):
    accept_notification(request(priority="low"), received_via="http", deps=deps)
    assert deps.intake.publisher.sent[0].route.queue_name == NOTIFIER_BULK_QUEUE


def test_the_same_event_again_is_a_duplicate_with_the_same_job(deps):
    first = accept_notification(request(), received_via="http", deps=deps)
    again = accept_notification(request(), received_via="amqp", deps=deps)
    assert (again.job_id, again.duplicate) == (first.job_id, True)
    assert len(deps.intake.publisher.sent) == 1


def test_an_unknown_template_is_refused_and_nothing_is_recorded(deps):
    with pytest.raises(UnknownTemplate, match="unknown template 'nope'"):
        accept_notification(request(template="nope"), received_via="http", deps=deps)
    assert deps.intake.publisher.sent == []
    assert deps.ledger.get(DELIVER_NOTIFICATION["normal"].job_id_for("event-1")) is None


def test_data_missing_a_variable_the_template_needs_is_refused(deps):
    with pytest.raises(TemplateDataError, match="'url' is undefined"):
        accept_notification(request(data={"author": "A", "snippet": "s"}), received_via="http", deps=deps)
    assert deps.intake.publisher.sent == []


def test_a_recipient_without_a_locale_gets_the_default_locale(deps):
    recipient = {"user_id": "u-1", "email": "bat@example.mn", "name": "Bat"}
    acceptance = accept_notification(request(recipient=recipient), received_via="http", deps=deps)
    stored = notification(deps, acceptance.job_id)
    assert (stored.locale, stored.title) == ("en", "Сараа mentioned you in a comment")


# -- delivery --


def test_delivers_one_email_and_shows_it_in_app(deps):
    command = accept_and_start(request(), deps)

    assert deliver_notification(command, deps) is DeliveryOutcome.DELIVERED

    [email] = deps.email_sender.sent
    assert email.to_address == "bat@example.mn"
    assert email.subject == "Сараа таныг сэтгэгдэлдээ дурдлаа"
    assert "Сайн байна уу, Бат!" in email.text
    assert email.idempotency_key == command.job_id
    assert notification(deps, command.job_id).in_app is True
    assert outcomes(deps, command.job_id) == {"email": ("sent", None), "in_app": ("sent", None)}
    with deps.session_factory() as session:
        delivery = session.get(EmailDelivery, command.job_id)
        assert (delivery.transport, delivery.provider_message_id) == ("recording", f"recorded-{command.job_id}")


def test_a_redelivered_job_sends_no_second_email(deps):
    command = accept_and_start(request(), deps)
    deliver_notification(command, deps)
    deliver_notification(command, deps)
    assert len(deps.email_sender.sent) == 1
    assert outcomes(deps, command.job_id)["email"] == ("sent", None)


def test_a_muted_user_gets_nothing_and_the_job_is_skipped_as_muted(deps):
    set_preferences(deps, Preferences(muted=True))
    command = accept_and_start(request(), deps)

    assert deliver_notification(command, deps) is DeliveryOutcome.MUTED

    assert deps.email_sender.sent == []
    assert notification(deps, command.job_id).in_app is False
    job = deps.ledger.get(command.job_id)
    assert (job.status, job.reason) == (JobStatus.SKIPPED, "muted")
    assert outcomes(deps, command.job_id) == {"email": ("skipped", "muted"), "in_app": ("skipped", "muted")}


def test_security_notifications_reach_a_muted_user_who_opted_out(deps):
    set_preferences(deps, Preferences(muted=True, opt_outs=frozenset({("security", "email")})))
    command = accept_and_start(
        request(category="security", template="generic", data={"title": "Password changed", "body": "..."}), deps
    )

    assert deliver_notification(command, deps) is DeliveryOutcome.DELIVERED
    assert len(deps.email_sender.sent) == 1
    assert notification(deps, command.job_id).in_app is True


def test_an_opt_out_drops_only_that_channel(deps):
    set_preferences(deps, Preferences(opt_outs=frozenset({("comments", "email")})))
    command = accept_and_start(request(), deps)

    assert deliver_notification(command, deps) is DeliveryOutcome.DELIVERED

    assert deps.email_sender.sent == []
    assert notification(deps, command.job_id).in_app is True
    assert outcomes(deps, command.job_id) == {"email": ("skipped", "opted_out"), "in_app": ("sent", None)}


def test_opted_out_of_every_requested_channel_the_job_is_skipped_as_opted_out(deps):
    set_preferences(deps, Preferences(opt_outs=frozenset({("comments", "email"), ("comments", "in_app")})))
    command = accept_and_start(request(), deps)

    assert deliver_notification(command, deps) is DeliveryOutcome.OPTED_OUT
    job = deps.ledger.get(command.job_id)
    assert (job.status, job.reason) == (JobStatus.SKIPPED, "opted_out")


def test_a_digest_email_waits_pending_and_sends_nothing_now(deps):
    command = accept_and_start(request(delivery="digest", channels=["email"]), deps)

    assert deliver_notification(command, deps) is DeliveryOutcome.DELIVERED

    assert deps.email_sender.sent == []
    stored = notification(deps, command.job_id)
    assert (stored.digest_state, stored.in_app) == ("pending", False)
    assert outcomes(deps, command.job_id) == {}, "the digest records the email's outcome"


def test_a_redelivered_digest_job_does_not_undo_a_digest_already_sent(deps):
    command = accept_and_start(request(delivery="digest", channels=["email"]), deps)
    deliver_notification(command, deps)
    with unit_of_work(deps.session_factory) as session:
        session.get(Notification, command.job_id).digest_state = "digested"
    deliver_notification(command, deps)
    assert notification(deps, command.job_id).digest_state == "digested"


def test_in_app_only_is_stored_for_the_inbox_without_email(deps):
    command = accept_and_start(request(channels=["in_app"], recipient={"user_id": "u-1", "name": "Бат", "locale": "mn"}), deps)

    deliver_notification(command, deps)

    assert deps.email_sender.sent == []
    stored = notification(deps, command.job_id)
    assert stored.in_app is True
    assert stored.body.startswith("Сараа таныг сэтгэгдэлдээ дурдлаа:")


def test_a_transient_email_failure_leaves_the_email_to_a_retry(deps):
    command = accept_and_start(request(), deps)
    deps.email_sender.fail_next(TransientEmailError("timeout"))

    with pytest.raises(TransientEmailError):
        deliver_notification(command, deps)
    assert "email" not in outcomes(deps, command.job_id)

    deliver_notification(command, deps)
    assert len(deps.email_sender.delivered) == 1
    assert outcomes(deps, command.job_id)["email"] == ("sent", None)


def test_a_refused_email_is_recorded_failed_and_raised(deps):
    command = accept_and_start(request(), deps)
    deps.email_sender.fail_next(PermanentEmailError("550 no such user"))

    with pytest.raises(PermanentEmailError):
        deliver_notification(command, deps)
    assert outcomes(deps, command.job_id)["email"] == ("failed", "permanent_error")

    # A replay from the dead-letter queue tries again, and success replaces the failure.
    deliver_notification(command, deps)
    assert outcomes(deps, command.job_id)["email"] == ("sent", None)
