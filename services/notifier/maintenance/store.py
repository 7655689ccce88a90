"""What the admin routes read of maintenance's results: the statistics and the runs log."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.notifier.tables import MaintenanceRun, NotificationStat


@dataclass(frozen=True)
class StatsFilter:
    period: str
    #: First ``period_start`` included, and the one before which they stop.
    since: datetime | None = None
    until: datetime | None = None
    channel: str | None = None
    category: str | None = None


def list_stats(session: Session, where: StatsFilter, *, limit: int) -> list[NotificationStat]:
    """The statistics of ``where.period``, newest period first."""
    statement = select(NotificationStat).where(NotificationStat.period == where.period)
    if where.since is not None:
        statement = statement.where(NotificationStat.period_start >= where.since)
    if where.until is not None:
        statement = statement.where(NotificationStat.period_start < where.until)
    if where.channel is not None:
        statement = statement.where(NotificationStat.channel == where.channel)
    if where.category is not None:
        statement = statement.where(NotificationStat.category == where.category)
    statement = statement.order_by(
        NotificationStat.period_start.desc(), NotificationStat.channel, NotificationStat.category
    ).limit(limit)
    return list(session.scalars(statement))


def list_runs(session: Session, *, task: str | None, limit: int, offset: int) -> tuple[int, list[MaintenanceRun]]:
    """How many runs there are (of ``task``, when given), and a page of them, newest first."""
    condition = [MaintenanceRun.task == task] if task else []
    count = session.scalar(select(func.count()).select_from(MaintenanceRun).where(*condition))
    rows = session.scalars(
        select(MaintenanceRun)
        .where(*condition)
        .order_by(MaintenanceRun.started_at.desc(), MaintenanceRun.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return count, list(rows)
