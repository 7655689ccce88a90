"""The job ledger: every job from the moment it is accepted until it ends.

``enqueued → processing → (retrying → processing)* → completed | skipped | dead | cancelled``

A job id is stable (``ActorRoute.job_id_for``), so the same event always maps to the same row.
Transitions are conditional updates: a redelivered message cannot move a finished job backwards,
and a handler that marked its job ``skipped`` is not overwritten by the middleware's ``completed``.
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String, Text, bindparam, case, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from shared.clock import Clock
from shared.db import Base, UtcDateTime, insert_ignoring_conflicts, insert_many_ignoring_conflicts, unit_of_work


class JobStatus(StrEnum):
    ENQUEUED = "enqueued"
    PROCESSING = "processing"
    RETRYING = "retrying"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    DEAD = "dead"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.COMPLETED, JobStatus.SKIPPED, JobStatus.DEAD, JobStatus.CANCELLED)
UNFINISHED = (JobStatus.ENQUEUED, JobStatus.PROCESSING, JobStatus.RETRYING)

#: Longest error text kept; a traceback lives in the dead-letter archive.
MAX_ERROR_CHARS = 2000


class Job(Base):
    __tablename__ = "jobs"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class JobView:
    job_id: str
    type: str
    status: str
    attempts: int
    max_attempts: int
    last_error: str | None
    reason: str | None
    correlation_id: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> "JobView":
        return cls(**{field: getattr(job, field) for field in cls.__dataclass_fields__})


class JobLedger:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._session_factory = session_factory
        self._clock = clock

    # -- acceptance happens inside the caller's unit of work, beside what it records --

    def accept_many(self, session: Session, jobs: list[dict]) -> set[str]:
        """Record new jobs (rows from ``new_job``, distinct ids) as ``enqueued``, in one INSERT that
        ignores a conflict; the ids of those that did not exist yet. A concurrent accept of the
        same job waits for the first to commit (or roll back) and then knows which it is."""
        # In id order: two transactions holding the same ids then lock them in the same order,
        # so one waits for the other instead of both deadlocking.
        return insert_many_ignoring_conflicts(session, Job.__table__, sorted(jobs, key=lambda job: job["job_id"]))

    def new_job(
        self, job_id: str, job_type: str, max_attempts: int, correlation_id: str | None, subject_id: str | None
    ) -> dict:
        """The row of a job just accepted (``enqueued``)."""
        return self._new_job(job_id, job_type, max_attempts, correlation_id, subject_id, JobStatus.ENQUEUED)

    def _new_job(
        self, job_id: str, job_type: str, max_attempts: int, correlation_id: str | None, subject_id: str | None, status: JobStatus
    ) -> dict:
        now = self._clock.now()
        return {
            "job_id": job_id,
            "type": job_type,
            "status": status,
            "attempts": 1 if status == JobStatus.PROCESSING else 0,
            "max_attempts": max_attempts,
            "correlation_id": correlation_id,
            "subject_id": subject_id,
            "created_at": now,
            "updated_at": now,
        }

    # -- transitions driven by the worker --

    def get(self, job_id: str) -> JobView | None:
        with self._session_factory() as session:
            job = session.get(Job, job_id)
            return JobView.of(job) if job else None

    def status_of(self, job_id: str) -> str | None:
        """The job's status now, or None when there is no such job."""
        with self._session_factory() as session:
            return session.scalar(select(_jobs.c.status).where(_jobs.c.job_id == job_id))

    def get_many(self, job_ids: list[str]) -> list[JobView]:
        """The jobs among ``job_ids`` that exist, oldest first."""
        with self._session_factory() as session:
            jobs = session.scalars(select(Job).where(Job.job_id.in_(job_ids)).order_by(Job.created_at, Job.job_id))
            return [JobView.of(job) for job in jobs]

    def start_attempt(self, job_id: str, *, job_type: str, max_attempts: int, correlation_id: str | None) -> str | None:
        """Mark the job ``processing`` and count the attempt; a job nobody accepted is recorded now.

        Returns the job's status after that: ``processing``, or the status of a job that is
        finished already (a redelivery; ``cancelled``: the worker must not run it).

        The UPDATE matches the job by id alone, whatever its status, so that it waits for a
        producer's uncommitted change to the row (a replay) and then decides on the committed
        state: producers publish before they commit. A job whose insert has not committed yet is
        invisible; our own insert then waits for it, finds it there, and the next round updates it.
        """
        for _ in range(3):
            with unit_of_work(self._session_factory) as session:
                status = session.execute(_START_ATTEMPT, {"p_job_id": job_id, "p_now": self._clock.now()}).scalar()
                if status is not None:
                    return status
                if insert_ignoring_conflicts(
                    session,
                    Job.__table__,
                    self._new_job(job_id, job_type, max_attempts, correlation_id, None, JobStatus.PROCESSING),
                ):
                    return JobStatus.PROCESSING
        return None

    def retrying(self, job_id: str, error: str) -> None:
        self._transition(job_id, JobStatus.RETRYING, last_error=error, only_from=(JobStatus.PROCESSING,))

    def complete(self, job_id: str) -> None:
        self._transition(job_id, JobStatus.COMPLETED, only_from=(JobStatus.PROCESSING,))

    def skip(self, job_id: str, reason: str) -> None:
        self._transition(job_id, JobStatus.SKIPPED, reason=reason, only_from=UNFINISHED)

    def dead(self, job_id: str, reason: str, error: str | None) -> None:
        self._transition(job_id, JobStatus.DEAD, reason=reason, last_error=error, only_from=UNFINISHED)

    def cancel(self, job_id: str) -> JobView | None:
        """Cancel a job that waits to run (enqueued, or retrying later); its message is then
        skipped when a worker takes it. A job running or finished is left as it is: the view
        returned says which. None when there is no such job."""
        self._transition(job_id, JobStatus.CANCELLED, only_from=(JobStatus.ENQUEUED, JobStatus.RETRYING))
        return self.get(job_id)

    def list_page(
        self, *, status: str | None, job_type: str | None, subject_id: str | None, limit: int, offset: int
    ) -> tuple[int, list[JobView]]:
        """Jobs matching the filters, newest first, and how many match in all."""
        conditions = [
            column == value
            for column, value in ((Job.status, status), (Job.type, job_type), (Job.subject_id, subject_id))
            if value is not None
        ]
        with self._session_factory() as session:
            count = session.scalar(select(func.count()).select_from(Job).where(*conditions))
            jobs = session.scalars(
                select(Job).where(*conditions).order_by(Job.created_at.desc(), Job.job_id).limit(limit).offset(offset)
            )
            return count, [JobView.of(job) for job in jobs]

    def requeue_for_replay(self, session: Session, job_id: str) -> None:
        """A replayed dead job starts over: enqueued, no attempts, no error."""
        session.execute(
            update(Job)
            .where(Job.job_id == job_id)
            .values(
                status=JobStatus.ENQUEUED,
                attempts=0,
                last_error=None,
                reason=None,
                finished_at=None,
                updated_at=self._clock.now(),
            )
        )

    def count_by_status(self) -> dict[str, int]:
        with self._session_factory() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
            return {status: count for status, count in rows}

    def _transition(
        self,
        job_id: str,
        status: JobStatus,
        *,
        only_from: tuple[JobStatus, ...],
        reason: str | None = None,
        last_error: str | None = None,
    ) -> None:
        now = self._clock.now()
        values: dict = {"status": status.value, "updated_at": now}
        if status in FINISHED:
            values["finished_at"] = now
        if reason is not None:
            values["reason"] = reason
        if last_error is not None:
            values["last_error"] = last_error[-MAX_ERROR_CHARS:]
        statement = _transition_statement(only_from, tuple(sorted(values)))
        with unit_of_work(self._session_factory) as session:
            session.execute(statement, {"p_job_id": job_id, **{f"p_{name}": value for name, value in values.items()}})


# Statements are built once: building one costs more CPU than running it, and these run for
# every attempt of every job. On the Table, not the mapped class: an UPDATE of the class goes
# through the ORM's bulk-update machinery (synchronising a session that holds no objects), which
# measured as a tenth of notifier's CPU per alert.
_jobs = Job.__table__
_UNFINISHED_STATUS = _jobs.c.status.in_([status.value for status in UNFINISHED])
_START_ATTEMPT = (
    update(_jobs)
    .where(_jobs.c.job_id == bindparam("p_job_id"))
    .values(
        status=case((_UNFINISHED_STATUS, JobStatus.PROCESSING.value), else_=_jobs.c.status),
        attempts=case((_UNFINISHED_STATUS, _jobs.c.attempts + 1), else_=_jobs.c.attempts),
        updated_at=case((_UNFINISHED_STATUS, bindparam("p_now", type_=UtcDateTime())), else_=_jobs.c.updated_at),
    )
    .returning(_jobs.c.status)
)


@functools.cache
def _transition_statement(only_from: tuple[JobStatus, ...], fields: tuple[str, ...]):
    return (
        update(_jobs)
        .where(_jobs.c.job_id == bindparam("p_job_id"), _jobs.c.status.in_([status.value for status in only_from]))
        .values({name: bindparam(f"p_{name}", type_=_jobs.c[name].type) for name in fields})
    )
