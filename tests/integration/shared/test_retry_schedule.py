"""Unexpected failures retry on the actor's own schedule on the real RabbitMQ, through real
Dramatiq workers and the job ledger on each database, then die and reach the archive."""

from datetime import datetime, timezone
from functools import partial

import dramatiq
import pytest
from dramatiq import Worker

from services.migrations.migrate import upgrade_to_head
from services.notifier.actors import route_actor
from shared.amqp.consumer import QueueConsumer
from shared.amqp.publisher import DramatiqPublisher
from shared.broker import build_broker
from shared.db import build_engine, build_session_factory
from shared.jobs.dead_letters import DeadLetterArchive
from shared.jobs.ledger import JobLedger, JobStatus
from shared.schemas import SendSignInAlertV1
from shared.topology import SEND_SIGNIN_ALERT, ActorRoute, BackoffSchedule, dead_letter_queue
from tests.fakes.clock import FakeClock
from tests.fakes.email import RecordingEmailSender
from tests.support.running_notifier import RunningNotifier
from tests.support.waiting import wait_until

#: The sign-in schedule's shape, in milliseconds instead of seconds, so a run takes a second.
QUICK_BACKOFF = BackoffSchedule((20, 40, 80, 160))
FLAKY = ActorRoute(queue_name="test.flaky", actor_name="flaky", job_type="flaky", backoff=QUICK_BACKOFF)


class EnqueueDelays(dramatiq.Middleware):
    """Remembers the delay of every retry enqueued: the schedule the worker actually followed."""

    def __init__(self) -> None:
        self.delays: list[int] = []

    def before_enqueue(self, broker, message, delay):
        if delay is not None:
            self.delays.append(delay)


@pytest.fixture
def session_factory(database_url):
    engine = build_engine(database_url)
    upgrade_to_head(engine)
    yield build_session_factory(engine)
    engine.dispose()


def test_an_actor_that_fails_unexpectedly_follows_its_schedule_then_is_archived(amqp_url, session_factory):
    ledger = JobLedger(session_factory, FakeClock())
    broker = build_broker(amqp_url, ledger=ledger)
    delays = EnqueueDelays()
    broker.add_middleware(delays)

    def flaky(payload: dict) -> None:
        # What a far-future date did to the sign-in handler, whatever intake lets through.
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).astimezone().replace(year=10000)

    route_actor(flaky, FLAKY, broker=broker)
    broker.declare_queue(FLAKY.queue_name, ensure=True)
    archive = DeadLetterArchive(session_factory, ledger, FakeClock())
    archiver = QueueConsumer(
        "archiver",
        amqp_url,
        [dead_letter_queue(FLAKY.queue_name)],
        partial(archive.archive_delivery, carries_dramatiq_messages=True),
        lambda channel: None,
        requeue_on_error=True,
    )
    worker = Worker(broker, worker_threads=1)
    worker.start()
    archiver.start()
    try:
        DramatiqPublisher(broker).send(FLAKY, {}, message_id="job-1")
        wait_until(lambda: archive.count() == 1, timeout=20, what="the job dead and archived")
    finally:
        archiver.stop()
        worker.stop()
        broker.close()

    assert delays.delays == [20, 40, 80, 160]
    job = ledger.get("job-1")
    assert (job.status, job.attempts, job.reason) == (JobStatus.DEAD, 5, "retries_exhausted")
    assert job.last_error.startswith("ValueError: year 10000 is out of range")
    [dead] = archive.list_page()[1]
    assert (dead.job_id, dead.reason, dead.attempts) == ("job-1", "retries_exhausted", 5)
    assert dead.last_error.startswith("ValueError: year 10000 is out of range")


def test_a_sign_in_alert_that_fails_unexpectedly_retries_after_two_then_four_seconds(amqp_url, database_url, session_factory):
    sender = RecordingEmailSender()
    sender.fail_next(OverflowError("date value out of range"), times=5)
    notifier = RunningNotifier(amqp_url, database_url, clock=FakeClock())
    notifier.build(sender)
    broker = dramatiq.get_broker()  # the one the service built
    delays = EnqueueDelays()
    broker.add_middleware(delays)
    try:
        notifier.start()
        alert = SendSignInAlertV1(
            job_id="alert-1",
            event_id="alert-1",
            occurred_at=datetime(2026, 11, 23, 8, 15, tzinfo=timezone.utc),
            user={"id": "u-1", "email": "bat@example.mn", "name": "Бат", "locale": "mn"},
            context={"provider": "github", "ip_address": "203.0.113.7", "user_agent": ""},
        ).model_dump(mode="json")
        DramatiqPublisher(broker).send(SEND_SIGNIN_ALERT, alert, message_id="alert-1")
        wait_until(lambda: len(delays.delays) >= 2, timeout=20, what="two retries scheduled")
    finally:
        notifier.stop()
    assert delays.delays[:2] == [2000, 4000]
