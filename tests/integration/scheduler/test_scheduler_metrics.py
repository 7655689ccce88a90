"""The scheduler's metrics: runs counted and timed, digests emitted, and the schedules active and
due, read from the database at scrape time."""

from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from services.scheduler.metrics import DigestScheduleCollector, SchedulerMetrics
from services.scheduler.tables import DigestSchedule
from shared.db import unit_of_work
from tests.fakes.clock import FakeClock
from tests.support.digests_due import due_schedule_row
from tests.support.metrics import metric_value


def test_runs_are_counted_by_outcome_and_digests_by_number_emitted():
    registry = CollectorRegistry()
    metrics = SchedulerMetrics(registry)
    scan = metrics.timed("digest-scan", metrics.counting_digests(lambda: 7))

    def failing():
        raise RuntimeError("broker away")

    assert scan() == 7 and scan() == 7
    with pytest.raises(RuntimeError):
        metrics.timed("retention", failing)()

    exposition = generate_latest(registry).decode()
    assert metric_value(exposition, "herald_digests_emitted_total") == 14
    assert metric_value(exposition, "herald_scheduled_runs_total", outcome="ok", schedule="digest-scan") == 2
    assert metric_value(exposition, "herald_scheduled_runs_total", outcome="failed", schedule="retention") == 1
    assert metric_value(exposition, "herald_scheduled_run_duration_seconds_count", schedule="retention") == 1


def test_active_and_due_schedules_are_read_from_the_database(session_factory):
    now = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)  # the rows are due at 08:00
    with unit_of_work(session_factory) as session:
        for n in range(3):
            session.add(DigestSchedule(**due_schedule_row(f"due-{n}", now - timedelta(days=1))))
        later = DigestSchedule(**due_schedule_row("later", now - timedelta(days=1)))
        later.next_run_at = now + timedelta(hours=1)
        paused = DigestSchedule(**due_schedule_row("paused", now - timedelta(days=1)))
        paused.active, paused.next_run_at = False, None
        session.add_all([later, paused])

    registry = CollectorRegistry()
    registry.register(DigestScheduleCollector(session_factory, FakeClock(now)))
    exposition = generate_latest(registry).decode()
    assert metric_value(exposition, "herald_digest_schedules_active") == 4
    assert metric_value(exposition, "herald_digest_schedules_due") == 3
