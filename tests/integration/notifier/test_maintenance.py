"""Maintenance on both databases: retention in batches, rollups, the dead-letter watchdog."""

import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from services.auth_events.bootstrap import bootstrap as bootstrap_auth_events
from services.auth_events.retention import SignInRetention
from services.auth_events.settings import AuthEventsSettings
from services.auth_events.tables import SignInRecord
from services.migrations.migrate import upgrade_to_head
from services.notifier.email.transports.mime import build_mime_message, message_id_for
from services.notifier.maintenance import run_maintenance
from services.notifier.maintenance.deps import RetentionPolicy, WatchdogPolicy
from services.notifier.tables import (
    DigestDelivery,
    MaintenanceRun,
    Notification,
    NotificationOutcome,
    NotificationStat,
)
from shared.db import build_engine, build_session_factory, unit_of_work
from shared.errors import PermanentError
from shared.jobs.dead_letters import DeadLetter
from shared.jobs.ledger import Job
from shared.jobs.rate_limit import RateLimitHit
from shared.schemas import RunMaintenanceV1
from shared.topology import RUN_MAINTENANCE, SCHEDULER_EXCHANGE, maintenance_key
from tests.fakes.clock import FakeClock
from tests.support.events import publish_json
from tests.support.herald_process import free_port
from tests.support.notifier_deps import notifier_deps, policies
from tests.support.waiting import wait_until

NOW = datetime(2026, 11, 24, 0, 5, tzinfo=timezone.utc)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def command(task: str, period: str | None = None, scheduled_for: datetime = NOW, n: int = 1) -> RunMaintenanceV1:
    return RunMaintenanceV1.model_validate(
        {
            "job_id": f"job-{task}-{n}",
            "due": {
                "event_id": f"maintenance:{task}:{period}:{scheduled_for.isoformat()}:{n}",
                "type": "maintenance.due",
                "version": 1,
                "occurred_at": scheduled_for.isoformat(),
                "task": task,
                "period": period,
                "scheduled_for": scheduled_for.isoformat(),
            },
        }
    )


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def deps(session_factory, clock):
    changed = policies(
        retention=RetentionPolicy(batch_size=3),
        watchdog=WatchdogPolicy(threshold=3, repeat_hours=24, admin_email="ops@example.mn"),
    )
    return notifier_deps(session_factory, clock, policies=changed).maintenance


def add_job(session, job_id, status, finished_days_ago, job_type="signin_alert"):
    finished_at = days_ago(finished_days_ago)
    session.add(
        Job(job_id=job_id, type=job_type, status=status, attempts=1, max_attempts=5,
            created_at=finished_at, updated_at=finished_at, finished_at=finished_at)
    )


def add_notification(session, id_, created_days_ago, *, in_app=False, read=False, digest_state=None, category="comments"):
    created_at = days_ago(created_days_ago)
    session.add(
        Notification(
            id=id_, event_id=id_, user_id="u-1", category=category, template="t", priority="normal",
            delivery="immediate", locale="en", title="t", body="b", data={}, created_at=created_at,
            in_app=in_app, read_at=created_at if read else None, digest_state=digest_state,
        )
    )


def add_dead_letter(session, n, dead_days_ago=0):
    session.add(
        DeadLetter(delivery_key=f"f-{n}", queue_name="notifier.critical", reason="permanent_error",
                   body=b"{}", headers={}, dead_at=days_ago(dead_days_ago))
    )


def add_outcome(session, job_id, outcome, at, *, category="comments", channel="email"):
    session.add(
        NotificationOutcome(job_id=job_id, user_id="u-1", category=category, channel=channel, outcome=outcome, occurred_at=at)
    )


def ids(session, column) -> set:
    return set(session.scalars(select(column)))


def test_retention_deletes_only_what_is_past_its_age_in_batches(deps, session_factory):
    # Unread and digest-pending notifications are kept past 90 days, but not past 365.
    with unit_of_work(session_factory) as session:
        for n in range(7):  # more than two batches of three
            add_job(session, f"old-done-{n}", "completed", 31)
        add_job(session, "recent-done", "completed", 29)
        add_job(session, "old-skipped", "skipped", 31)
        add_job(session, "dead-60", "dead", 60)
        add_job(session, "dead-91", "dead", 91)
        add_job(session, "still-retrying", "retrying", 200)
        add_dead_letter(session, 1, dead_days_ago=91)
        add_dead_letter(session, 2, dead_days_ago=10)
        add_notification(session, "old-plain", 91)
        add_notification(session, "old-read", 91, in_app=True, read=True)
        add_notification(session, "old-digested", 91, digest_state="digested")
        add_notification(session, "old-unread", 91, in_app=True)
        add_notification(session, "old-pending", 91, digest_state="pending")
        add_notification(session, "year-old-unread", 366, in_app=True)
        add_notification(session, "year-old-pending", 366, digest_state="pending")
        add_notification(session, "recent", 10)
        add_outcome(session, "o-old", "sent", days_ago(91))
        add_outcome(session, "o-recent", "sent", days_ago(36))
        for n, age in enumerate((91, 92, 93, 94, 1)):
            session.add(DigestDelivery(schedule_id=f"s-{n}", period_key="2026-08-01", user_id="u-1", job_id=f"d-{n}",
                                       outcome="sent", items=1, delivered_at=days_ago(age)))
        session.add(RateLimitHit(token="old", key="k", at=days_ago(2)))
        session.add(RateLimitHit(token="new", key="k", at=days_ago(0.5)))

    result = run_maintenance(command("retention"), deps)

    assert result.details["deleted"] == {
        "finished_jobs": 8,
        "dead_jobs": 1,
        "dead_letters": 1,
        "notifications": 5,
        "email_deliveries": 0,
        "notification_outcomes": 1,
        "digest_deliveries": 4,
        "rate_limit_hits": 1,
        "maintenance_runs": 0,
    }
    with session_factory() as session:
        assert ids(session, Job.job_id) == {"recent-done", "dead-60", "still-retrying"}
        assert ids(session, Notification.id) == {"old-unread", "old-pending", "recent"}
        assert ids(session, NotificationOutcome.job_id) == {"o-recent"}
        assert ids(session, DigestDelivery.schedule_id) == {"s-4"}
        assert ids(session, RateLimitHit.token) == {"new"}
        [run] = session.scalars(select(MaintenanceRun))
        assert (run.task, run.rows, run.error) == ("retention", 21, None)

    again = run_maintenance(command("retention", n=2), deps)
    assert again.rows == 0, "a second run finds nothing more"


def test_a_rollup_counts_outcomes_and_dead_jobs_of_the_period_and_a_rerun_replaces_them(deps, session_factory):
    day = datetime(2026, 11, 23, tzinfo=timezone.utc)
    with unit_of_work(session_factory) as session:
        add_outcome(session, "a", "sent", day + timedelta(hours=1))
        add_outcome(session, "b", "sent", day + timedelta(hours=23, minutes=59))
        add_outcome(session, "c", "skipped", day + timedelta(hours=2), category="security")
        add_outcome(session, "d", "sent", day + timedelta(hours=3), channel="in_app")
        add_outcome(session, "e", "failed", day + timedelta(hours=4))
        add_outcome(session, "outside", "sent", day + timedelta(days=1))  # the next day
        add_outcome(session, "before", "sent", day - timedelta(seconds=1))
        # Dead jobs: an alert, a notification (its category from its row), and one already
        # counted through its recorded failure.
        session.add(Job(job_id="dead-alert", type="signin_alert", status="dead", attempts=5, max_attempts=5,
                        created_at=day, updated_at=day, finished_at=day + timedelta(hours=5)))
        session.add(Job(job_id="dead-note", type="notification", status="dead", attempts=5, max_attempts=5,
                        created_at=day, updated_at=day, finished_at=day + timedelta(hours=6)))
        add_notification(session, "dead-note", 1, category="billing")
        session.add(Job(job_id="e", type="notification", status="dead", attempts=5, max_attempts=5,
                        created_at=day, updated_at=day, finished_at=day + timedelta(hours=6)))

    result = run_maintenance(command("rollup", "daily"), deps)

    def stats():
        with session_factory() as session:
            rows = session.scalars(select(NotificationStat).order_by(NotificationStat.channel, NotificationStat.category))
            return [(r.period, r.period_start, r.channel, r.category, r.sent, r.failed, r.skipped) for r in rows]

    assert stats() == [
        ("daily", day, "email", "billing", 0, 1, 0),
        ("daily", day, "email", "comments", 2, 1, 0),
        ("daily", day, "email", "security", 0, 1, 1),
        ("daily", day, "in_app", "comments", 1, 0, 0),
    ]
    assert (result.rows, result.period_start) == (4, day)

    with unit_of_work(session_factory) as session:
        add_outcome(session, "late", "sent", day + timedelta(hours=12))
    run_maintenance(command("rollup", "daily", n=2), deps)
    assert ("daily", day, "email", "comments", 3, 1, 0) in stats() and len(stats()) == 4, "replaced, not added"

    with session_factory() as session:
        runs = session.scalars(select(MaintenanceRun).order_by(MaintenanceRun.id)).all()
        assert [(r.task, r.period, r.period_start, r.rows, r.error) for r in runs] == [
            ("rollup", "daily", day, 4, None),
            ("rollup", "daily", day, 4, None),
        ]
        assert all(r.finished_at is not None and r.duration_ms is not None for r in runs)


def test_a_rollup_catches_up_on_the_periods_whose_runs_were_missed(deps, session_factory):
    day = datetime(2026, 11, 20, tzinfo=timezone.utc)
    with unit_of_work(session_factory) as session:
        for offset in range(4):
            add_outcome(session, f"sent-{offset}", "sent", day + timedelta(days=offset, hours=9))

    run_maintenance(command("rollup", "daily", scheduled_for=day + timedelta(days=1, minutes=15)), deps)
    # The scheduler was down for two days: the next run rolls up those days too, oldest first.
    result = run_maintenance(command("rollup", "daily", scheduled_for=day + timedelta(days=4, minutes=15), n=2), deps)

    assert result.period_start == day + timedelta(days=3)
    assert result.details["caught_up"] == [(day + timedelta(days=n)).isoformat() for n in (1, 2)]
    with session_factory() as session:
        rolled_up = session.scalars(select(NotificationStat.period_start).order_by(NotificationStat.period_start))
        assert list(rolled_up) == [day + timedelta(days=n) for n in range(4)]


def test_a_run_that_fails_for_good_is_recorded_with_its_error(deps, session_factory):
    with pytest.raises(PermanentError):
        run_maintenance(command("rollup", period=None), deps)

    with session_factory() as session:
        [run] = session.scalars(select(MaintenanceRun)).all()
        assert (run.task, run.rows, run.job_id) == ("rollup", 0, "job-rollup-1")
        assert "a rollup needs a period" in run.error
        assert run.finished_at is not None


def test_the_watchdog_alerts_at_the_threshold_then_only_when_due_or_doubled(deps, session_factory, clock, caplog):
    sender = deps.email_sender

    def watchdog(n):
        return run_maintenance(command("dead_letter_watchdog", n=n), deps)

    with unit_of_work(session_factory) as session:
        for n in range(2):
            add_dead_letter(session, n)
    assert not watchdog(1).details["alerted"] and sender.sent == []

    with unit_of_work(session_factory) as session:
        add_dead_letter(session, 2)
    with caplog.at_level(logging.ERROR, logger="herald.notifier.watchdog"):
        assert watchdog(2).details["alerted"]
    assert any(record.levelno == logging.ERROR for record in caplog.records)
    [email] = sender.sent
    assert email.to_address == "ops@example.mn" and "3 dead letters" in email.subject
    # A key with ":" (the event id) would cut the Message-ID to "<dead_letter_watchdog".
    message_id = build_mime_message(email)["Message-ID"]
    assert message_id == message_id_for(RUN_MAINTENANCE.job_id_for(command("dead_letter_watchdog", n=2).due.event_id))

    clock.advance(hours=1)
    with unit_of_work(session_factory) as session:
        add_dead_letter(session, 3)
    assert not watchdog(3).details["alerted"], "4 is not double 3, and a day has not passed"

    with unit_of_work(session_factory) as session:
        for n in range(4, 6):
            add_dead_letter(session, n)
    assert watchdog(4).details["alerted"], "6 is double 3"

    clock.advance(hours=23)
    assert not watchdog(5).details["alerted"]
    clock.advance(hours=1)
    assert watchdog(6).details["alerted"], "a day after the last alert"
    assert len(sender.sent) == 3

    with unit_of_work(session_factory) as session:
        session.execute(DeadLetter.__table__.delete())
    assert not watchdog(7).details["alerted"]
    with unit_of_work(session_factory) as session:
        for n in range(3):
            add_dead_letter(session, 10 + n)
    assert watchdog(8).details["alerted"], "back over the threshold: alerts at once"
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(MaintenanceRun)) == 8


def add_signins(session_factory, now, ages_in_days):
    with unit_of_work(session_factory) as session:
        for n, age_days in enumerate(ages_in_days):
            session.add(
                SignInRecord(
                    event_id=f"e-{n}", user_id="u-1", occurred_at=now - timedelta(days=age_days),
                    ip_address="203.0.113.7", user_agent="", provider="github", received_via="amqp", received_at=now,
                )
            )


def test_sign_in_history_retention_deletes_only_old_records_in_batches(session_factory):
    add_signins(session_factory, NOW, [91, 92, 93, 120, 200, 89, 1])
    retention = SignInRetention(session_factory, FakeClock(NOW), days=90, batch_size=2)

    assert retention.delete_older_than(days_ago(90)) == 5
    with session_factory() as session:
        assert set(session.scalars(select(SignInRecord.event_id))) == {"e-5", "e-6"}
    assert retention.delete_older_than(days_ago(90)) == 0


def test_auth_events_runs_sign_in_retention_when_the_scheduler_says_so(amqp_url, database_url):
    engine = build_engine(database_url)
    upgrade_to_head(engine)
    session_factory = build_session_factory(engine)
    now = datetime.now(timezone.utc)
    add_signins(session_factory, now, [91, 95, 10])
    settings = AuthEventsSettings(amqp_url=amqp_url, database_url=database_url, auth_events_port=free_port())
    service = bootstrap_auth_events(settings)
    service.start()
    try:
        consumer = next(component for component in service.intake if component.name == "auth-events-maintenance")
        assert consumer.connected.wait(10)
        due = {
            "event_id": f"maintenance:retention:{now.isoformat()}", "type": "maintenance.due", "version": 1,
            "occurred_at": now.isoformat(), "task": "retention", "scheduled_for": now.isoformat(),
        }
        publish_json(amqp_url, SCHEDULER_EXCHANGE, maintenance_key("retention"), due)

        def remaining():
            with session_factory() as session:
                return set(session.scalars(select(SignInRecord.event_id)))

        wait_until(lambda: remaining() == {"e-2"}, timeout=15, what="old sign-ins deleted")
    finally:
        service.stop()
        engine.dispose()


def test_the_admin_api_shows_statistics_and_maintenance_runs(deps, session_factory):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from services.notifier.maintenance.routes import MaintenanceApiDeps, maintenance_routers

    with unit_of_work(session_factory) as session:
        add_outcome(session, "a", "sent", datetime(2026, 11, 23, 5, tzinfo=timezone.utc))
    run_maintenance(command("rollup", "daily"), deps)
    app = FastAPI()
    for router in maintenance_routers(MaintenanceApiDeps(session_factory, admin_token="secret")):
        app.include_router(router)
    client = TestClient(app)
    admin = {"Authorization": "Bearer secret"}

    assert client.get("/v1/admin/stats").status_code == 401
    stats = client.get("/v1/admin/stats", params={"period": "daily", "from": "2026-11-01T00:00:00Z"}, headers=admin)
    assert stats.status_code == 200
    [row] = stats.json()["items"]
    assert (row["channel"], row["category"], row["sent"], row["period_start"][:10]) == ("email", "comments", 1, "2026-11-23")
    runs = client.get("/v1/admin/maintenance-runs", params={"task": "rollup"}, headers=admin).json()
    assert runs["count"] == 1 and runs["items"][0]["rows"] == 1
