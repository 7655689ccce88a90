"""Scheduler events through the real RabbitMQ into notifier's workers, on both databases.

A ``digest.due`` batch published to ``scheduler.events`` is consumed, becomes one send_digests
job, and a real Dramatiq worker sends the digest: once, however often the batch arrives.
"""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.notifier.tables import DigestDelivery, MaintenanceRun, Notification
from shared.db import unit_of_work
from shared.jobs.dead_letters import DeadLetter
from shared.jobs.ledger import Job, JobStatus
from shared.topology import DIGEST_DUE_KEY, maintenance_key
from tests.fakes.email import RecordingEmailSender
from tests.support.running_notifier import RunningNotifier
from tests.support.waiting import wait_until


def digests_due(batch_id: str, scheduled_for: datetime) -> dict:
    return {
        "type": "digest.due.batch",
        "version": 1,
        "batch_id": batch_id,
        "occurred_at": scheduled_for.isoformat(),
        "digests": [
            {
                "event_id": "digest:s-1:2026-11-24",
                "type": "digest.due",
                "version": 1,
                "occurred_at": scheduled_for.isoformat(),
                "schedule_id": "s-1",
                "period_key": "2026-11-24",
                "scheduled_for": scheduled_for.isoformat(),
                "frequency": "daily",
                "timezone": "Asia/Ulaanbaatar",
                "recipient": {"user_id": "u-1", "email": "bat@example.mn", "name": "Бат", "locale": "mn"},
                "categories": [],
                "max_items": 10,
            }
        ],
    }


@pytest.fixture
def notifier(amqp_url, database_url):
    with RunningNotifier(amqp_url, database_url) as notifier:
        yield notifier.start(RecordingEmailSender())


def test_a_digest_due_batch_published_twice_sends_one_digest(notifier):
    sender, session_factory = notifier.email_sender, notifier.session_factory
    now = datetime.now(timezone.utc)
    with unit_of_work(session_factory) as session:
        session.add(
            Notification(
                id="n-1", event_id="e-1", user_id="u-1", category="comments", template="t", priority="low",
                delivery="digest", locale="mn", title="Шинэ сэтгэгдэл", body="Болд бичжээ", data={},
                created_at=now - timedelta(hours=1), in_app=False, digest_state="pending",
            )
        )

    notifier.publish_scheduled(DIGEST_DUE_KEY, digests_due("batch-1", now))
    notifier.publish_scheduled(DIGEST_DUE_KEY, digests_due("batch-1", now))  # the same batch again
    notifier.publish_scheduled(DIGEST_DUE_KEY, digests_due("batch-2", now))  # the same digest, another batch

    def batch_jobs_finished():
        with session_factory() as session:
            jobs = session.scalars(select(Job).where(Job.type == "digest_batch")).all()
            return len(jobs) == 2 and all(job.status == JobStatus.COMPLETED for job in jobs)

    wait_until(batch_jobs_finished, timeout=20, what="both batch jobs to complete")
    [email] = sender.delivered
    assert email.to_address == "bat@example.mn"
    assert "Шинэ сэтгэгдэл" in email.text
    with session_factory() as session:
        assert session.get(Notification, "n-1").digest_state == "digested"
        assert session.get(DigestDelivery, ("s-1", "2026-11-24")).outcome == "sent"


def test_a_maintenance_event_fired_twice_runs_once_and_a_bad_event_is_dead_lettered(notifier):
    session_factory = notifier.session_factory
    scheduled_for = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    due = {
        "event_id": f"maintenance:rollup:hourly:{scheduled_for.isoformat()}",
        "type": "maintenance.due",
        "version": 1,
        "occurred_at": scheduled_for.isoformat(),
        "task": "rollup",
        "period": "hourly",
        "scheduled_for": scheduled_for.isoformat(),
    }
    notifier.publish_scheduled(maintenance_key("rollup"), due)
    notifier.publish_scheduled(maintenance_key("rollup"), due)  # a second scheduler firing the same run
    notifier.publish_scheduled(maintenance_key("retention"), b'{"type": "maintenance.due"}')

    def runs():
        with session_factory() as session:
            return session.scalars(select(MaintenanceRun)).all()

    def dead_letters():
        with session_factory() as session:
            return session.scalars(select(DeadLetter)).all()

    [dead] = wait_until(dead_letters, timeout=20, what="the invalid event in the archive")
    assert dead.reason == "invalid_event" and dead.queue_name == "notifier.scheduled"
    [run] = wait_until(runs, timeout=20, what="the rollup run")
    assert (run.task, run.period, run.period_start) == ("rollup", "hourly", scheduled_for - timedelta(hours=1))
    with session_factory() as session:
        jobs = session.scalars(select(Job).where(Job.type == "maintenance")).all()
    assert len(jobs) == 1
