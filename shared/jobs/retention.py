"""Retention of the platform's own tables: the job ledger, the dead-letter archive, rate-limit hits.

The platform owns these tables, so it says what is old enough to go; a service's maintenance
(notifier's) decides when to run it and deletes its own tables alongside. Deletes go in small
batches (``shared.db.delete_in_batches``), so a large backlog never holds a long lock, and running
it twice deletes nothing more.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, and_
from sqlalchemy.orm import Session, sessionmaker

from shared.db import delete_in_batches
from shared.jobs.dead_letters import DeadLetter
from shared.jobs.ledger import Job, JobStatus
from shared.jobs.rate_limit import RateLimitHit


@dataclass(frozen=True)
class PlatformRetention:
    finished_jobs_days: int = 30
    dead_jobs_days: int = 90
    dead_letters_days: int = 90
    #: Rate-limit hits matter for an hour; a day leaves room for a slow clock.
    rate_limit_hits_days: int = 1
    #: Rows per DELETE transaction, so no transaction holds locks for long.
    batch_size: int = 1000


@dataclass(frozen=True)
class RetentionTarget:
    """Rows of ``table`` that ``expired`` selects go; ``name`` is what the count is reported as."""

    name: str
    table: Table
    expired: ColumnElement[bool]


def days_before(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def platform_targets(policy: PlatformRetention, now: datetime) -> list[RetentionTarget]:
    finished = [JobStatus.COMPLETED, JobStatus.SKIPPED, JobStatus.CANCELLED]
    return [
        RetentionTarget(
            "finished_jobs",
            Job.__table__,
            and_(Job.status.in_(finished), Job.finished_at < days_before(now, policy.finished_jobs_days)),
        ),
        RetentionTarget(
            "dead_jobs",
            Job.__table__,
            and_(Job.status == JobStatus.DEAD, Job.finished_at < days_before(now, policy.dead_jobs_days)),
        ),
        RetentionTarget("dead_letters", DeadLetter.__table__, DeadLetter.dead_at < days_before(now, policy.dead_letters_days)),
        RetentionTarget(
            "rate_limit_hits", RateLimitHit.__table__, RateLimitHit.at < days_before(now, policy.rate_limit_hits_days)
        ),
    ]


def delete_expired(session_factory: sessionmaker[Session], targets: list[RetentionTarget], batch_size: int) -> dict[str, int]:
    """Delete what each target selects, in batches; {name: rows deleted}, in the targets' order."""
    return {target.name: delete_in_batches(session_factory, target.table, target.expired, batch_size) for target in targets}
