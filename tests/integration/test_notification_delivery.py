"""Notification requests end to end inside notifier, on the real RabbitMQ and each database:
published to the ``notifications`` exchange, accepted, delivered by real Dramatiq workers;
invalid requests dead-lettered with their reason; high priority never waiting behind bulk.
"""

import threading
import uuid

import pytest

from services.migrations.migrate import upgrade_to_head
from services.notifier.bootstrap import bootstrap as bootstrap_notifier
from services.notifier.settings import NotifierSettings
from services.notifier.tables import Notification
from shared.db import build_engine, build_session_factory
from shared.jobs.dead_letters import DeadLetterArchive
from shared.jobs.ledger import JobLedger, JobStatus
from shared.topology import (
    DELIVER_NOTIFICATION,
    NOTIFICATION_REQUESTED_KEY,
    NOTIFICATIONS_EXCHANGE,
    NOTIFIER_REQUESTS_QUEUE,
)
from tests.fakes.clock import FakeClock
from tests.fakes.email import RecordingEmailSender
from tests.support.events import publish_json
from tests.support.herald_process import free_port
from tests.support.waiting import wait_until


def notification_request(*, title: str = "Hello", priority: str = "normal", **fields) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "notification.requested",
        "version": 1,
        "occurred_at": "2026-11-23T08:15:00Z",
        "recipient": {"user_id": "u-1", "email": "bat@example.mn", "name": "Бат", "locale": "mn"},
        "category": "announcements",
        "template": "generic",
        "data": {"title": title, "body": "Body text"},
        "channels": ["email", "in_app"],
        "priority": priority,
        **fields,
    }


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


class Notifier:
    """notifier's whole service on the test's vhost and database, started with a chosen sender."""

    def __init__(self, amqp_url: str, database_url: str) -> None:
        self.amqp_url = amqp_url
        self.database_url = database_url
        self.engine = build_engine(database_url)
        upgrade_to_head(self.engine)
        self.session_factory = build_session_factory(self.engine)
        self.ledger = JobLedger(self.session_factory, FakeClock())
        self.service = None

    def start(self, email_sender, **settings) -> None:
        self.service = bootstrap_notifier(
            NotifierSettings(
                amqp_url=self.amqp_url, database_url=self.database_url, notifier_port=free_port(), **settings
            ),
            email_sender=email_sender,
            clock=FakeClock(),
        )
        self.service.start()
        consumer = next(c for c in self.service.intake if c.name == "notifier-requests")
        # Publishing before the consumer has declared the exchange and queue would lose the message.
        assert consumer.connected.wait(15), "the requests consumer did not connect"

    def publish(self, body: bytes | dict) -> None:
        publish_json(self.amqp_url, NOTIFICATIONS_EXCHANGE, NOTIFICATION_REQUESTED_KEY, body)

    def job_status(self, job_id: str) -> str | None:
        job = self.ledger.get(job_id)
        return job.status if job else None

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
        self.engine.dispose()


@pytest.fixture
def notifier(amqp_url, database_url):
    notifier = Notifier(amqp_url, database_url)
    yield notifier
    notifier.stop()


def job_id_of(body: dict) -> str:
    return DELIVER_NOTIFICATION[body["priority"]].job_id_for(body["event_id"])


def test_a_published_request_is_accepted_and_delivered_by_a_worker(notifier):
    sender = RecordingEmailSender()
    notifier.start(sender)
    body = notification_request(title="Шинэ мэдэгдэл")
    job_id = job_id_of(body)

    notifier.publish(body)

    wait_until(lambda: notifier.job_status(job_id) == JobStatus.COMPLETED, what="the job completed")
    [email] = sender.delivered
    assert (email.subject, email.idempotency_key) == ("Шинэ мэдэгдэл", job_id)
    with notifier.session_factory() as session:
        assert session.get(Notification, job_id).in_app is True

    # The same event again, then another: once the other is delivered, the duplicate was seen.
    notifier.publish(body)
    other = notification_request(title="Дараагийнх")
    notifier.publish(other)
    wait_until(lambda: notifier.job_status(job_id_of(other)) == JobStatus.COMPLETED, what="the next job")
    assert [email.subject for email in sender.delivered] == ["Шинэ мэдэгдэл", "Дараагийнх"]


def test_invalid_requests_are_dead_lettered_with_their_reason(notifier):
    sender = RecordingEmailSender()
    notifier.start(sender)
    archive = DeadLetterArchive(notifier.session_factory, notifier.ledger, FakeClock())

    notifier.publish(b"{not json")
    notifier.publish(notification_request(channels=["sms"]))
    notifier.publish(notification_request(template="welcome"))
    notifier.publish(notification_request(data={"body": "no title"}))
    valid = notification_request()
    notifier.publish(valid)

    wait_until(lambda: notifier.job_status(job_id_of(valid)) == JobStatus.COMPLETED, what="the valid one delivered")
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
        notifier.publish(body)
    assert sender.slow_in_flight.acquire(timeout=15), "the bulk worker never started a slow send"

    urgent = notification_request(title="urgent", priority="high")
    notifier.publish(urgent)
    try:
        wait_until(lambda: notifier.job_status(job_id_of(urgent)) == JobStatus.COMPLETED, what="the urgent job")
        assert [email.subject for email in sender.delivered] == ["urgent"]
        assert all(notifier.job_status(job_id_of(body)) != JobStatus.COMPLETED for body in bulk)
    finally:
        sender.release.set()
    wait_until(
        lambda: all(notifier.job_status(job_id_of(body)) == JobStatus.COMPLETED for body in bulk),
        timeout=30,
        what="the bulk jobs to finish once released",
    )
