"""Retention: delete what is past its age, in small batches, and count it.

The platform's tables (jobs, dead letters, rate-limit hits) go by the platform's own rules
(``shared.jobs.retention``); notifier adds its tables. Each batch is one transaction deleting at
most ``batch_size`` rows chosen by primary key, so a large backlog never holds a long lock.
Running it twice deletes nothing more.
"""

import logging
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_

from services.notifier.maintenance.deps import MaintenanceDeps, RetentionPolicy, TaskResult
from services.notifier.tables import (
    DIGEST_PENDING,
    DigestDelivery,
    EmailDelivery,
    MaintenanceRun,
    Notification,
    NotificationOutcome,
)
from shared.jobs.retention import RetentionTarget, days_before, delete_expired, platform_targets
from shared.schemas.scheduler import MaintenanceDueV1

logger = logging.getLogger("herald.notifier.retention")


def _old_notification(policy: RetentionPolicy, now: datetime) -> ColumnElement[bool]:
    delivered = and_(
        or_(Notification.in_app == false(), Notification.read_at.is_not(None)),
        or_(Notification.digest_state.is_(None), Notification.digest_state != DIGEST_PENDING),
    )
    # Unread ones and ones waiting for a digest the user may never have scheduled are kept
    # longer, but not forever.
    return or_(
        and_(Notification.created_at < days_before(now, policy.notifications_days), delivered),
        Notification.created_at < days_before(now, policy.undelivered_notifications_days),
    )


def notifier_targets(policy: RetentionPolicy, now: datetime) -> list[RetentionTarget]:
    cutoff = days_before(now, policy.notifications_days)
    return [
        RetentionTarget("notifications", Notification.__table__, _old_notification(policy, now)),
        RetentionTarget("email_deliveries", EmailDelivery.__table__, EmailDelivery.sent_at < cutoff),
        RetentionTarget("notification_outcomes", NotificationOutcome.__table__, NotificationOutcome.occurred_at < cutoff),
        RetentionTarget("digest_deliveries", DigestDelivery.__table__, DigestDelivery.delivered_at < cutoff),
        RetentionTarget("maintenance_runs", MaintenanceRun.__table__, MaintenanceRun.started_at < cutoff),
    ]


def run_retention(due: MaintenanceDueV1, deps: MaintenanceDeps) -> TaskResult:
    policy, now = deps.retention, deps.clock.now()
    targets = platform_targets(policy, now) + notifier_targets(policy, now)
    deleted = delete_expired(deps.session_factory, targets, policy.batch_size)
    logger.info("retention done", extra={"deleted": deleted})
    return TaskResult(rows=sum(deleted.values()), details={"deleted": deleted})
