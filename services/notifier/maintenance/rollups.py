"""Rollups: notification statistics per hour, day, week and month.

A run rolls up the last complete period before its ``scheduled_for`` (UTC; weeks start on
Monday), and the earlier periods whose runs were missed since the last successful one. It
counts the recorded outcomes (sent, skipped, failed by channel and category) and the alert and notification jobs that ended dead in the period without a recorded failure
(failed, on email: a job dies when its email cannot go out). Re-running a period replaces its
rows, so a late or repeated run is always safe.
"""

from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session

from services.notifier.maintenance.deps import MaintenanceDeps, TaskResult
from services.notifier.tables import MaintenanceRun, Notification, NotificationOutcome, NotificationStat
from shared.db import unit_of_work
from shared.errors import PermanentError
from shared.jobs.ledger import Job, JobStatus
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


#: Earlier periods a rollup catches up on when their own runs were missed (the scheduler was down).
MAX_CATCH_UP_PERIODS = 24


def periods_to_roll_up(session: Session, period: str, scheduled_for: datetime) -> list[tuple[datetime, datetime]]:
    """The last complete period before ``scheduled_for`` and, oldest first, the ones before it
    that no successful run has rolled up since the last one did (at most MAX_CATCH_UP_PERIODS)."""
    last_done = session.scalar(
        select(func.max(MaintenanceRun.period_start)).where(
            MaintenanceRun.task == "rollup", MaintenanceRun.period == period, MaintenanceRun.error.is_(None)
        )
    )
    periods = [previous_period(period, scheduled_for)]
    while last_done is not None and len(periods) <= MAX_CATCH_UP_PERIODS:
        earlier = previous_period(period, periods[-1][0])
        if earlier[0] <= last_done:
            break
        periods.append(earlier)
    return periods[::-1]


def replace_period(session: Session, period: str, start: datetime, end: datetime, now: datetime) -> dict[str, int]:
    """Write the statistics of [start, end), replacing what was there; the totals by outcome."""
    counts = count_period(session, start, end)
    session.execute(delete(NotificationStat).where(NotificationStat.period == period, NotificationStat.period_start == start))
    rows = [
        {
            "period": period,
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
    return {"rows": len(rows), **{outcome: sum(c[outcome] for c in counts.values()) for outcome in OUTCOMES}}


def run_rollup(due: MaintenanceDueV1, deps: MaintenanceDeps) -> TaskResult:
    if due.period is None:
        raise PermanentError("a rollup needs a period (hourly, daily, weekly or monthly)")
    now = deps.clock.now()
    with unit_of_work(deps.session_factory) as session:
        periods = periods_to_roll_up(session, due.period, due.scheduled_for)
        written = [replace_period(session, due.period, start, end, now) for start, end in periods]
    start, end = periods[-1]
    details = {"period_end": end.isoformat(), "totals": {o: written[-1][o] for o in OUTCOMES}}
    if len(periods) > 1:
        details["caught_up"] = [period_start.isoformat() for period_start, _ in periods[:-1]]
    return TaskResult(rows=sum(w["rows"] for w in written), period=due.period, period_start=start, details=details)
