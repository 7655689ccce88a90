"""Counts and times every job attempt, per actor, for Prometheus."""

import time

import dramatiq
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Sign-in alerts take tens of milliseconds; a slow provider takes seconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class JobMetrics(dramatiq.Middleware):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "herald_job_attempts", "Job attempts by actor and outcome", ["actor", "outcome"], registry=registry
        )
        self.duration = Histogram(
            "herald_job_duration_seconds", "Time one attempt took", ["actor"], buckets=DURATION_BUCKETS, registry=registry
        )
        self.in_progress = Gauge(
            # livesum: with several processes (shared.web.metrics), the sum over those alive.
            "herald_jobs_in_progress", "Attempts running now", ["actor"], registry=registry, multiprocess_mode="livesum"
        )
        self._started: dict[str, float] = {}

    def before_process_message(self, broker, message):
        self.in_progress.labels(message.actor_name).inc()
        self._started[message.message_id] = time.monotonic()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is None:
            outcome = "completed"
        else:
            outcome = "dead" if message.failed else "retried"
        self._finish(message, outcome)

    def after_skip_message(self, broker, message):
        self._finish(message, "skipped")

    def _finish(self, message, outcome: str) -> None:
        started = self._started.pop(message.message_id, None)
        if started is None:
            return
        self.in_progress.labels(message.actor_name).dec()
        self.duration.labels(message.actor_name).observe(time.monotonic() - started)
        self.attempts.labels(message.actor_name, outcome).inc()
