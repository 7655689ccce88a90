"""The due scan on a controllable clock, emitting into the real RabbitMQ, on SQLite and PostgreSQL.

Two scans at once, each in a process of its own: ``test_digest_pipeline.py``.
"""

from datetime import datetime, timezone

import pytest

from services.scheduler.digest_schedules.handlers import DigestScheduleFields, DigestSchedulePatch, DigestSchedules
from services.scheduler.digest_schedules.scan import DigestScan
from services.scheduler.tables import DigestSchedule
from shared.amqp.event_publisher import EventPublisher
from shared.amqp.publisher import PublishFailed
from shared.db import unit_of_work
from tests.fakes.clock import FakeClock
from tests.support.digests_due import DigestQueue
from tests.support.waiting import wait_until

START = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)  # a Tuesday


@pytest.fixture
def digest_queue(amqp_url):
    return DigestQueue(amqp_url)


@pytest.fixture
def publisher(amqp_url):
    publisher = EventPublisher(amqp_url)
    yield publisher
    publisher.close()


@pytest.fixture
def clock():
    return FakeClock(START)


def add_schedule(session_factory, clock, **overrides) -> dict:
    fields = {
        "recipient": {"user_id": "u-1", "email": "bat@example.mn", "name": "Бат", "locale": "mn"},
        "frequency": "daily",
        "delivery_time": "08:00",
        "timezone": "UTC",
        "categories": ["comments"],
        "max_items": 10,
        **overrides,
    }
    return DigestSchedules(session_factory, clock).create(DigestScheduleFields.model_validate(fields))


def stored(session_factory, schedule_id: str) -> DigestSchedule:
    with unit_of_work(session_factory) as session:
        return session.get(DigestSchedule, schedule_id)


def test_due_schedules_are_emitted_once_as_valid_digest_due_events(session_factory, publisher, digest_queue, clock):
    daily = add_schedule(session_factory, clock)
    weekly = add_schedule(
        session_factory, clock, frequency="weekly", delivery_day=2, delivery_time="08:30", timezone="Europe/Berlin"
    )
    not_yet = add_schedule(session_factory, clock, delivery_time="23:00")
    scan = DigestScan(session_factory, publisher, clock)

    clock.current = datetime(2026, 11, 24, 8, 0, 5, tzinfo=timezone.utc)
    assert scan.run_once() == 2

    digests = {digest.schedule_id: digest for digest in wait_until(digest_queue.digests, what="the batch")}
    assert set(digests) == {daily["id"], weekly["id"]}
    first = digests[daily["id"]]
    assert first.event_id == f"digest:{daily['id']}:2026-11-24"
    assert first.period_key == "2026-11-24"
    assert first.scheduled_for == datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
    assert first.occurred_at == clock.now()
    assert first.frequency == "daily"
    assert first.recipient.model_dump() == {"user_id": "u-1", "email": "bat@example.mn", "name": "Бат", "locale": "mn"}
    assert first.categories == ["comments"]
    assert first.max_items == 10
    assert digests[weekly["id"]].period_key == "2026-W48"
    assert digests[weekly["id"]].scheduled_for == datetime(2026, 11, 24, 7, 30, tzinfo=timezone.utc)

    row = stored(session_factory, daily["id"])
    assert row.last_sent_at == clock.now()
    assert row.last_period_key == "2026-11-24"
    assert row.next_run_at == datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)
    assert stored(session_factory, not_yet["id"]).last_sent_at is None

    assert scan.run_once() == 0
    assert digest_queue.digests() == []


def test_nothing_is_emitted_when_nothing_is_due(session_factory, publisher, digest_queue, clock):
    add_schedule(session_factory, clock)
    assert DigestScan(session_factory, publisher, clock).run_once() == 0
    assert DigestScan(session_factory, publisher, clock).run_once() == 0
    assert digest_queue.batches() == []


def test_after_downtime_one_digest_per_schedule_for_the_latest_missed_period(
    session_factory, publisher, digest_queue, clock
):
    daily = add_schedule(session_factory, clock)
    weekly = add_schedule(session_factory, clock, frequency="weekly", delivery_day=3)
    monthly = add_schedule(session_factory, clock, frequency="monthly", delivery_day=31)
    clock.current = datetime(2027, 1, 20, 12, 0, tzinfo=timezone.utc)  # weeks of missed periods

    assert DigestScan(session_factory, publisher, clock, batch_size=2).run_once() == 3

    digests = wait_until(digest_queue.digests, what="the catch-up batch")
    assert sorted((d.schedule_id, d.period_key) for d in digests) == sorted(
        [(daily["id"], "2027-01-20"), (weekly["id"], "2027-W03"), (monthly["id"], "2026-12")]
    )
    assert {d.schedule_id: d.scheduled_for for d in digests}[monthly["id"]] == datetime(
        2026, 12, 31, 8, 0, tzinfo=timezone.utc
    )
    assert stored(session_factory, monthly["id"]).next_run_at == datetime(2027, 1, 31, 8, 0, tzinfo=timezone.utc)
    assert DigestScan(session_factory, publisher, clock).run_once() == 0


def test_inactive_schedules_are_never_emitted(session_factory, publisher, digest_queue, clock):
    inactive = add_schedule(session_factory, clock, active=False)
    paused = add_schedule(session_factory, clock)
    DigestSchedules(session_factory, clock).update(paused["id"], _patch(active=False))
    clock.advance(days=3)

    assert DigestScan(session_factory, publisher, clock).run_once() == 0
    assert digest_queue.batches() == []
    assert stored(session_factory, inactive["id"]).next_run_at is None


def test_a_period_already_emitted_is_not_emitted_again_after_an_edit(session_factory, publisher, digest_queue, clock):
    schedule = add_schedule(session_factory, clock)
    scan = DigestScan(session_factory, publisher, clock)
    clock.current = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
    assert scan.run_once() == 1
    # Moved to later the same day: its next run is today again, but today's digest went out.
    DigestSchedules(session_factory, clock).update(schedule["id"], _patch(delivery_time="10:00"))
    clock.current = datetime(2026, 11, 24, 10, 0, 1, tzinfo=timezone.utc)

    assert scan.run_once() == 0
    assert stored(session_factory, schedule["id"]).next_run_at == datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    assert [d.period_key for d in digest_queue.digests()] == ["2026-11-24"]


def test_a_failed_publish_marks_nothing_and_the_next_run_emits(
    session_factory, publisher, digest_queue, clock, rabbit_admin, vhost
):
    schedule = add_schedule(session_factory, clock)
    clock.advance(hours=3)
    scan = DigestScan(session_factory, publisher, clock)

    rabbit_admin.refuse_connections(vhost)
    try:
        with pytest.raises(PublishFailed):
            scan.run_once()
    finally:
        rabbit_admin.accept_connections(vhost)

    row = stored(session_factory, schedule["id"])
    assert row.last_sent_at is None and row.last_period_key is None
    assert row.next_run_at == datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)

    assert scan.run_once() == 1
    assert [d.event_id for d in wait_until(digest_queue.digests, what="the retried batch")] == [
        f"digest:{schedule['id']}:2026-11-24"
    ]


def test_a_batch_no_queue_would_receive_is_refused_and_marks_nothing(session_factory, publisher, clock):
    schedule = add_schedule(session_factory, clock)
    clock.advance(hours=3)
    with pytest.raises(PublishFailed):
        DigestScan(session_factory, publisher, clock).run_once()
    assert stored(session_factory, schedule["id"]).last_sent_at is None


def test_the_scan_publishes_again_after_the_broker_dropped_its_idle_connection(
    session_factory, publisher, digest_queue, clock, rabbit_admin, vhost
):
    add_schedule(session_factory, clock)
    add_schedule(session_factory, clock, delivery_time="09:00")
    scan = DigestScan(session_factory, publisher, clock)
    clock.current = datetime(2026, 11, 24, 8, 30, tzinfo=timezone.utc)
    assert scan.run_once() == 1
    rabbit_admin.close_connections(vhost)  # what missed heartbeats or a broker restart do
    clock.current = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)
    assert scan.run_once() == 1
    assert sorted(d.period_key for d in digest_queue.digests()) == ["2026-11-24", "2026-11-24"]


def _patch(**changes) -> DigestSchedulePatch:
    return DigestSchedulePatch.model_validate(changes)
