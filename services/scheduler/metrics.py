"""What the scheduler reports at ``/metrics``: each recurring run (outcome, duration), the digests
it emitted, and, read from the database at scrape time, how many digest schedules are active and
how many are due and not yet emitted (a backlog that grows means the scan is falling behind)."""

import time
from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.scheduler.tables import DigestSchedule
from shared.clock import Clock

# A maintenance emit takes milliseconds; a scan of a large due set takes seconds.
DURATION_BUCKETS = (0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class SchedulerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "herald_scheduled_runs", "Recurring runs by schedule and outcome (ok, failed)", ["schedule", "outcome"], registry=registry
        )
        self.duration = Histogram(
            "herald_scheduled_run_duration_seconds", "Time one run took", ["schedule"], buckets=DURATION_BUCKETS, registry=registry
        )
        self.digests_emitted = Counter("herald_digests_emitted", "digest.due events emitted", registry=registry)

    def timed(self, schedule: str, run: Callable[[], object]) -> Callable[[], object]:
        """``run``, counted and timed; a failure is counted and passed on."""

        def measured() -> object:
            started = time.monotonic()
            try:
                result = run()
            except Exception:
                self.runs.labels(schedule, "failed").inc()
                raise
            finally:
                self.duration.labels(schedule).observe(time.monotonic() - started)
            self.runs.labels(schedule, "ok").inc()
            return result

        return measured

    def counting_digests(self, scan: Callable[[], int]) -> Callable[[], int]:
        def counted() -> int:
            emitted = scan()
            self.digests_emitted.inc(emitted)
            return emitted

        return counted


class DigestScheduleCollector(Collector):
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def collect(self):
        active, due = self.counts(self._clock.now())
        yield GaugeMetricFamily("herald_digest_schedules_active", "Active digest schedules", value=active)
        yield GaugeMetricFamily("herald_digest_schedules_due", "Digest schedules due and not yet emitted", value=due)

    def counts(self, now: datetime) -> tuple[int, int]:
        with self._session_factory() as session:
            active = session.scalar(select(func.count()).select_from(DigestSchedule).where(DigestSchedule.active.is_(True)))
            # Through the index on next_run_at: inactive schedules have none.
            due = session.scalar(select(func.count()).select_from(DigestSchedule).where(DigestSchedule.next_run_at <= now))
            return active, due
