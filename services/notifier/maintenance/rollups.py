"""Rollups: notification statistics per hour, day, week and month.

A run rolls up the last complete period before its ``scheduled_for`` (UTC; weeks start on
Monday). It counts the recorded outcomes (sent, skipped, failed by channel and category) and
the alert and notification jobs that ended dead in the period without a recorded failure
(failed, on email: a job dies when its email cannot go out). Re-running a period replaces its
rows, so a late or repeated run is always safe.
"""

from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session

from services.notifier.maintenance.deps import MaintenanceDeps, TaskResult
from services.notifier.tables import Notification, NotificationOutcome, NotificationStat
from shared.db import unit_of_work
from shared.errors import PermanentError
from shared.ledger import Job, JobStatus
from shared.schemas import SECURITY_CATEGORY
from shared.schemas.scheduler import MaintenanceDueV1
from shared.topology import DELIVER_NOTIFICATION, SEND_SIGNIN_ALERT

OUTCOMES = ("sent", "failed", "skipped")
#: A dead job whose notification row is gone (or never written) still counts, under this name.
UNKNOWN_CATEGORY = "unknown"
_NOTIFICATION_JOB_TYPE = DELIVER_NOTIFICATION["normal"].job_type


def previous_period(period: str, moment: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the last complete ``period`` before ``moment``, in UTC."""
    moment = moment.astimezone(timezone.utc)
    if period == "hourly":
        end = moment.replace(minute=0, second=0, microsecond=0)
        return end - timedelta(hours=1), end
    today = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        return today - timedelta(days=1), today
    if period == "weekly":
        this_monday = today - timedelta(days=today.weekday())
        return this_monday - timedelta(days=7), this_monday
    if period == "monthly":
        end = today.replace(day=1)
        return (end - timedelta(days=1)).replace(day=1), end
    raise ValueError(f"unknown rollup period {period!r}")


def count_period(session: Session, start: datetime, end: datetime) -> dict[tuple[str, str], Counter]:
    """{(channel, category): Counter(sent=, failed=, skipped=)} for [start, end)."""
    counts: dict[tuple[str, str], Counter] = {}
    outcomes = session.execute(
        select(NotificationOutcome.channel, NotificationOutcome.category, NotificationOutcome.outcome, func.count())
        .where(NotificationOutcome.occurred_at >= start, NotificationOutcome.occurred_at < end)
        .group_by(NotificationOutcome.channel, NotificationOutcome.category, NotificationOutcome.outcome)
    )
    for channel, category, outcome, n in outcomes:
        if outcome in OUTCOMES:
            counts.setdefault((channel, category), Counter())[outcome] += n

    failure_recorded = exists().where(NotificationOutcome.job_id == Job.job_id, NotificationOutcome.outcome == "failed")
    dead_jobs = session.execute(
        select(Job.type, Notification.category, func.count())
        .select_from(Job)
        .outerjoin(Notification, Notification.id == Job.job_id)
        .where(
            Job.status == JobStatus.DEAD,
            Job.finished_at >= start,
            Job.finished_at < end,
            Job.type.in_([SEND_SIGNIN_ALERT.job_type, _NOTIFICATION_JOB_TYPE]),
            ~failure_recorded,
        )
        .group_by(Job.type, Notification.category)
    )
    for job_type, category, n in dead_jobs:
        if job_type == SEND_SIGNIN_ALERT.job_type:
            category = SECURITY_CATEGORY
        counts.setdefault(("email", category or UNKNOWN_CATEGORY), Counter())["failed"] += n
    return counts


def run_rollup(due: MaintenanceDueV1, deps: MaintenanceDeps) -> TaskResult:
    if due.period is None:
        raise PermanentError("a rollup needs a period (hourly, daily, weekly or monthly)")
    start, end = previous_period(due.period, due.scheduled_for)
    now = deps.clock.now()
    with unit_of_work(deps.session_factory) as session:
        counts = count_period(session, start, end)
        session.execute(
            delete(NotificationStat).where(NotificationStat.period == due.period, NotificationStat.period_start == start)
        )
        rows = [
            {
                "period": due.period,
                "period_start": start,
                "channel": channel,
                "category": category,
                "sent": counter["sent"],
                "failed": counter["failed"],
                "skipped": counter["skipped"],
                "computed_at": now,
            }
            for (channel, category), counter in sorted(counts.items())
        ]
        if rows:
            session.execute(insert(NotificationStat), rows)
    return TaskResult(
        rows=len(rows),
        period=due.period,
        period_start=start,
        details={"period_end": end.isoformat(), "totals": {o: sum(c[o] for c in counts.values()) for o in OUTCOMES}},
    )
