"""Notification requests end to end inside notifier, on the real RabbitMQ and each database:
published to the ``notifications`` exchange, accepted, delivered by real Dramatiq workers;
invalid requests dead-lettered with their reason; high priority never waiting behind bulk.
"""

import threading

import pytest

from services.notifier.tables import Notification
from shared.jobs.dead_letters import DeadLetterArchive
from shared.jobs.ledger import JobStatus
from shared.topology import NOTIFIER_REQUESTS_QUEUE
from tests.fakes.clock import FakeClock
from tests.fakes.email import RecordingEmailSender
from tests.support.events import notification_job_id, notification_requested
from tests.support.running_notifier import RunningNotifier
from tests.support.waiting import wait_until


def notification_request(*, title: str = "Hello", priority: str = "normal", **fields) -> dict:
    defaults = {"category": "announcements", "data": {"title": title, "body": "Body text"}, "priority": priority}
    return notification_requested(**{**defaults, **fields})


class SlowForSomeEmailSender(RecordingEmailSender):
    """Holds every email whose subject starts with "slow" until released: a backed-up bulk pool."""

    def __init__(self) -> None:
        super().__init__()
        self.slow_in_flight = threading.Semaphore(0)
        self.release = threading.Event()

    def send(self, email):
        if email.subject.startswith("slow"):
            self.slow_in_flight.release()
            self.release.wait(30)
        return super().send(email)


@pytest.fixture
def notifier(amqp_url, database_url):
    with RunningNotifier(amqp_url, database_url, clock=FakeClock()) as notifier:
        yield notifier


def test_a_published_request_is_accepted_and_delivered_by_a_worker(notifier):
    sender = RecordingEmailSender()
    notifier.start(sender)
    body = notification_request(title="Шинэ мэдэгдэл")
    job_id = notification_job_id(body)

    notifier.publish_request(body)

    wait_until(lambda: notifier.job_status(job_id) == JobStatus.COMPLETED, what="the job completed")
    [email] = sender.delivered
    assert (email.subject, email.idempotency_key) == ("Шинэ мэдэгдэл", job_id)
    with notifier.session_factory() as session:
        assert session.get(Notification, job_id).in_app is True

    # The same event again, then another: once the other is delivered, the duplicate was seen.
    notifier.publish_request(body)
    other = notification_request(title="Дараагийнх")
    notifier.publish_request(other)
    wait_until(lambda: notifier.job_status(notification_job_id(other)) == JobStatus.COMPLETED, what="the next job")
    assert [email.subject for email in sender.delivered] == ["Шинэ мэдэгдэл", "Дараагийнх"]


def test_invalid_requests_are_dead_lettered_with_their_reason(notifier):
    sender = RecordingEmailSender()
    notifier.start(sender)
    archive = DeadLetterArchive(notifier.session_factory, notifier.ledger, FakeClock())

    notifier.publish_request(b"{not json")
    notifier.publish_request(notification_request(channels=["sms"]))
    notifier.publish_request(notification_request(template="welcome"))
    notifier.publish_request(notification_request(data={"body": "no title"}))
    valid = notification_request()
    notifier.publish_request(valid)

    wait_until(lambda: notifier.job_status(notification_job_id(valid)) == JobStatus.COMPLETED, what="the valid one delivered")
    count, items = wait_until(
        lambda: (page := archive.list_page())[0] == 4 and page, what="four archived dead letters"
    )
    by_error = {item.last_error: item for item in items}
    assert all(item.queue_name == NOTIFIER_REQUESTS_QUEUE for item in items)
    assert sorted(item.reason for item in items) == ["invalid_event", "invalid_event", "invalid_event", "undecodable"]
    assert any("unknown template 'welcome'" in (error or "") for error in by_error)
    assert any("'title' is undefined" in (error or "") for error in by_error)
    assert len(sender.delivered) == 1, "bad requests did not stop the good one"


def test_high_priority_is_delivered_while_the_bulk_queue_is_backed_up(notifier):
    sender = SlowForSomeEmailSender()
    notifier.start(sender, bulk_worker_threads=1)
    bulk = [notification_request(title=f"slow {n}", priority="low") for n in range(5)]
    for body in bulk:
        notifier.publish_request(body)
    assert sender.slow_in_flight.acquire(timeout=15), "the bulk worker never started a slow send"

    urgent = notification_request(title="urgent", priority="high")
    notifier.publish_request(urgent)
    try:
        wait_until(lambda: notifier.job_status(notification_job_id(urgent)) == JobStatus.COMPLETED, what="the urgent job")
        assert [email.subject for email in sender.delivered] == ["urgent"]
        assert all(notifier.job_status(notification_job_id(body)) != JobStatus.COMPLETED for body in bulk)
    finally:
        sender.release.set()
    wait_until(
        lambda: all(notifier.job_status(notification_job_id(body)) == JobStatus.COMPLETED for body in bulk),
        timeout=30,
        what="the bulk jobs to finish once released",
    )
