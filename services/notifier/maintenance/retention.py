"""Retention: delete what is past its age, in small batches, and count it.

Each batch is one transaction deleting at most ``batch_size`` rows chosen by primary key
(``DELETE ... WHERE key IN (SELECT key ... LIMIT n)``, which SQLite and PostgreSQL both run),
so a large backlog never holds a long lock. Running it twice deletes nothing more.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, and_, false, or_

from services.notifier.maintenance.deps import MaintenanceDeps, RetentionPolicy, TaskResult
from services.notifier.notifications.store import DIGEST_PENDING
from services.notifier.tables import DigestDelivery, EmailDelivery, MaintenanceRun, Notification, NotificationOutcome
from shared.db import delete_in_batches
from shared.jobs.dead_letters import DeadLetter
from shared.jobs.ledger import Job, JobStatus
from shared.jobs.rate_limit import RateLimitHit
from shared.schemas.scheduler import MaintenanceDueV1

logger = logging.getLogger("herald.notifier.retention")

#: (name, table, what is old enough to go, given the policy and now)
Target = tuple[str, Table, Callable[[RetentionPolicy, datetime], ColumnElement[bool]]]


def _days(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)


def _old_notification(policy: RetentionPolicy, now: datetime) -> ColumnElement[bool]:
    delivered = and_(
        or_(Notification.in_app == false(), Notification.read_at.is_not(None)),
        or_(Notification.digest_state.is_(None), Notification.digest_state != DIGEST_PENDING),
    )
    # Unread ones and ones waiting for a digest the user may never have scheduled are kept
    # longer, but not forever.
    return or_(
        and_(Notification.created_at < _days(policy.notifications_days, now), delivered),
        Notification.created_at < _days(policy.undelivered_notifications_days, now),
    )


TARGETS: list[Target] = [
    (
        "finished_jobs",
        Job.__table__,
        lambda p, now: and_(
            Job.status.in_([JobStatus.COMPLETED, JobStatus.SKIPPED, JobStatus.CANCELLED]),
            Job.finished_at < _days(p.finished_jobs_days, now),
        ),
    ),
    ("dead_jobs", Job.__table__, lambda p, now: and_(Job.status == JobStatus.DEAD, Job.finished_at < _days(p.dead_jobs_days, now))),
    ("dead_letters", DeadLetter.__table__, lambda p, now: DeadLetter.dead_at < _days(p.dead_letters_days, now)),
    ("notifications", Notification.__table__, _old_notification),
    ("email_deliveries", EmailDelivery.__table__, lambda p, now: EmailDelivery.sent_at < _days(p.notifications_days, now)),
    (
        "notification_outcomes",
        NotificationOutcome.__table__,
        lambda p, now: NotificationOutcome.occurred_at < _days(p.notifications_days, now),
    ),
    (
        "digest_deliveries",
        DigestDelivery.__table__,
        lambda p, now: DigestDelivery.delivered_at < _days(p.notifications_days, now),
    ),
    ("rate_limit_hits", RateLimitHit.__table__, lambda p, now: RateLimitHit.at < _days(p.rate_limit_hits_days, now)),
    ("maintenance_runs", MaintenanceRun.__table__, lambda p, now: MaintenanceRun.started_at < _days(p.notifications_days, now)),
]


def run_retention(due: MaintenanceDueV1, deps: MaintenanceDeps) -> TaskResult:
    policy, now = deps.retention, deps.clock.now()
    deleted = {
        name: delete_in_batches(deps.session_factory, table, condition(policy, now), policy.batch_size)
        for name, table, condition in TARGETS
    }
    logger.info("retention done", extra={"deleted": deleted})
    return TaskResult(rows=sum(deleted.values()), details={"deleted": deleted})
