"""The schema, the job ledger and the rate limit against real SQLite and PostgreSQL."""

import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import OperationalError

from services.migrations.metadata import metadata
from services.migrations.migrate import schema_is_current, upgrade_to_head
from shared.db import build_engine, build_session_factory, unit_of_work
from shared.jobs.ledger import JobLedger, JobStatus
from shared.jobs.rate_limit import SlidingWindowLimit
from tests.fakes.clock import FakeClock
from tests.support.databases import POSTGRES_URL, PostgresSchema


def test_migrations_reach_head_and_match_the_models(migrated_engine):
    assert schema_is_current(migrated_engine)
    with migrated_engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), metadata)
    assert drift == [], f"models and migrations disagree: {drift}"


def accept(ledger, session_factory, job_id="job-1"):
    with unit_of_work(session_factory) as session:
        ledger.accept_many(session, [ledger.new_job(job_id, "signin_alert", 5, correlation_id="c-1", subject_id="u-1")])


def test_ledger_follows_a_job_through_retries_to_completion(session_factory):
    clock = FakeClock()
    ledger = JobLedger(session_factory, clock)
    accept(ledger, session_factory)
    assert ledger.get("job-1").status == JobStatus.ENQUEUED

    ledger.start_attempt("job-1", job_type="signin_alert", max_attempts=5, correlation_id=None)
    clock.advance(seconds=1)
    ledger.retrying("job-1", "TransientEmailError: 503")
    ledger.start_attempt("job-1", job_type="signin_alert", max_attempts=5, correlation_id=None)
    clock.advance(seconds=2)
    ledger.complete("job-1")

    job = ledger.get("job-1")
    assert (job.status, job.attempts, job.last_error) == (JobStatus.COMPLETED, 2, "TransientEmailError: 503")
    assert job.finished_at == clock.now() and job.created_at < job.finished_at


def test_a_finished_job_is_not_moved_backwards_by_a_redelivery(session_factory):
    ledger = JobLedger(session_factory, FakeClock())
    accept(ledger, session_factory)
    ledger.start_attempt("job-1", job_type="signin_alert", max_attempts=5, correlation_id=None)
    ledger.skip("job-1", "rate_limited")
    ledger.complete("job-1")  # the middleware's verdict after the handler skipped
    ledger.start_attempt("job-1", job_type="signin_alert", max_attempts=5, correlation_id=None)

    job = ledger.get("job-1")
    assert (job.status, job.reason, job.attempts) == (JobStatus.SKIPPED, "rate_limited", 1)


def test_only_a_job_waiting_to_run_can_be_cancelled_and_a_cancelled_one_does_not_start(session_factory):
    ledger = JobLedger(session_factory, FakeClock())
    for job_id in ("waiting", "retrying", "running", "done"):
        accept(ledger, session_factory, job_id)
    for job_id in ("retrying", "running", "done"):
        ledger.start_attempt(job_id, job_type="signin_alert", max_attempts=5, correlation_id=None)
    ledger.retrying("retrying", "TransientEmailError: 503")
    ledger.complete("done")

    assert {job_id: ledger.cancel(job_id).status for job_id in ("waiting", "retrying", "running", "done")} == {
        "waiting": JobStatus.CANCELLED,
        "retrying": JobStatus.CANCELLED,
        "running": JobStatus.PROCESSING,
        "done": JobStatus.COMPLETED,
    }
    assert ledger.cancel("no-such-job") is None
    assert ledger.start_attempt("retrying", job_type="signin_alert", max_attempts=5, correlation_id=None) == JobStatus.CANCELLED
    cancelled = ledger.get("retrying")
    assert (cancelled.attempts, cancelled.finished_at is not None) == (1, True), "not counted as another attempt"
    assert ledger.start_attempt("waiting", job_type="signin_alert", max_attempts=5, correlation_id=None) == JobStatus.CANCELLED


def test_jobs_are_listed_newest_first_by_status_type_and_subject(session_factory):
    clock = FakeClock()
    ledger = JobLedger(session_factory, clock)
    for n in range(3):
        accept(ledger, session_factory, f"job-{n}")
        clock.advance(seconds=1)
    ledger.start_attempt("job-1", job_type="signin_alert", max_attempts=5, correlation_id=None)

    count, jobs = ledger.list_page(status=None, job_type="signin_alert", subject_id="u-1", limit=2, offset=0)
    assert (count, [job.job_id for job in jobs]) == (3, ["job-2", "job-1"])
    count, jobs = ledger.list_page(status=JobStatus.ENQUEUED, job_type=None, subject_id=None, limit=10, offset=0)
    assert (count, [job.job_id for job in jobs]) == (2, ["job-2", "job-0"])
    assert ledger.list_page(status=None, job_type="notification", subject_id=None, limit=10, offset=0) == (0, [])


def test_a_job_nobody_accepted_is_recorded_when_it_first_runs(session_factory):
    ledger = JobLedger(session_factory, FakeClock())
    ledger.start_attempt("orphan", job_type="signin_alert", max_attempts=5, correlation_id="c-9")
    job = ledger.get("orphan")
    assert (job.status, job.attempts, job.correlation_id) == (JobStatus.PROCESSING, 1, "c-9")


def test_rate_limit_slides_and_does_not_count_a_token_twice(session_factory):
    clock = FakeClock()
    limit = SlidingWindowLimit(clock)

    def acquire(token):
        with unit_of_work(session_factory) as session:
            return limit.acquire(session, key="user", token=token, limit=2, window=timedelta(hours=1))

    assert [acquire("a"), acquire("a"), acquire("b"), acquire("c")] == [True, True, True, False]
    clock.advance(minutes=61)
    assert acquire("c") is True


def test_rate_limit_holds_under_concurrent_acquirers(session_factory):
    limit = SlidingWindowLimit(FakeClock())
    allowed = []
    barrier = threading.Barrier(8)

    def worker(worker_index):
        barrier.wait()
        for attempt in range(5):
            with unit_of_work(session_factory) as session:
                if limit.acquire(session, key="busy-user", token=f"{worker_index}-{attempt}", limit=10, window=timedelta(hours=1)):
                    allowed.append(1)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 10


def _start_attempt_in_thread(ledger, job_id):
    worker = threading.Thread(
        target=ledger.start_attempt, args=(job_id,), kwargs={"job_type": "signin_alert", "max_attempts": 5, "correlation_id": None}
    )
    worker.start()
    return worker


def test_a_worker_waits_for_the_producers_commit_before_starting_the_job(session_factory):
    """Producers publish before they commit; a fast worker must not read the job's old state."""
    ledger = JobLedger(session_factory, FakeClock())
    with unit_of_work(session_factory) as session:
        ledger.accept_many(session, [ledger.new_job("job-1", "signin_alert", 5, correlation_id=None, subject_id=None)])
        worker = _start_attempt_in_thread(ledger, "job-1")
        worker.join(0.5)
        assert worker.is_alive(), "the worker must wait for the uncommitted job"
    worker.join(10)
    job = ledger.get("job-1")
    assert (job.status, job.attempts) == (JobStatus.PROCESSING, 1)


def test_a_replayed_dead_job_starts_again_even_when_the_worker_is_fast(session_factory):
    ledger = JobLedger(session_factory, FakeClock())
    accept(ledger, session_factory)
    ledger.start_attempt("job-1", job_type="signin_alert", max_attempts=5, correlation_id=None)
    ledger.dead("job-1", "permanent_error", "400")
    with unit_of_work(session_factory) as session:
        ledger.requeue_for_replay(session, "job-1")
        worker = _start_attempt_in_thread(ledger, "job-1")
        worker.join(0.5)
        assert worker.is_alive(), "the worker must wait for the replay to commit"
    worker.join(10)
    job = ledger.get("job-1")
    assert (job.status, job.attempts, job.reason) == (JobStatus.PROCESSING, 1, None)


def test_after_the_server_drops_connections_one_call_fails_and_the_next_reconnects(postgres_required):
    """Without pre-ping, a dropped connection surfaces once, as the transient OperationalError."""
    schema = PostgresSchema()
    name = f"herald-test-{uuid.uuid4().hex[:8]}"
    engine = build_engine(schema.url, connect_args={"application_name": name})
    try:
        upgrade_to_head(engine)
        ledger = JobLedger(build_session_factory(engine), FakeClock())
        assert ledger.get("none") is None  # a pooled connection now exists
        admin = sqlalchemy.create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,)
            )
        admin.dispose()
        with pytest.raises(OperationalError):
            ledger.get("none")
        assert ledger.get("none") is None
    finally:
        engine.dispose()
        schema.drop()
