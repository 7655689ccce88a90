"""Admin routes over the maintenance results: notification statistics and the runs log."""

from dataclasses import dataclass
from typing import Literal

from fastapi import Depends, FastAPI, Query
from pydantic import AwareDatetime
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.notifier.tables import MaintenanceRun, NotificationStat
from shared.web.http import require_admin


@dataclass
class StatsApiDeps:
    session_factory: sessionmaker[Session]
    admin_token: str


def _stat_json(row: NotificationStat) -> dict:
    return {
        "period": row.period,
        "period_start": row.period_start,
        "channel": row.channel,
        "category": row.category,
        "sent": row.sent,
        "failed": row.failed,
        "skipped": row.skipped,
        "computed_at": row.computed_at,
    }


def _run_json(row: MaintenanceRun) -> dict:
    return {
        "id": row.id,
        "job_id": row.job_id,
        "task": row.task,
        "period": row.period,
        "period_start": row.period_start,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "duration_ms": row.duration_ms,
        "rows": row.rows,
        "details": row.details,
        "error": row.error,
    }


def install_stats_routes(app: FastAPI, deps: StatsApiDeps) -> None:
    admin = [Depends(require_admin(deps.admin_token))]

    @app.get("/v1/admin/stats", dependencies=admin)
    def list_stats(
        period: Literal["hourly", "daily", "weekly", "monthly"] = "daily",
        since: AwareDatetime | None = Query(None, alias="from", description="first period_start included"),
        until: AwareDatetime | None = Query(None, alias="to", description="period_start before this"),
        channel: str | None = None,
        category: str | None = None,
        limit: int = Query(500, ge=1, le=5000),
    ):
        statement = select(NotificationStat).where(NotificationStat.period == period)
        if since is not None:
            statement = statement.where(NotificationStat.period_start >= since)
        if until is not None:
            statement = statement.where(NotificationStat.period_start < until)
        if channel is not None:
            statement = statement.where(NotificationStat.channel == channel)
        if category is not None:
            statement = statement.where(NotificationStat.category == category)
        statement = statement.order_by(
            NotificationStat.period_start.desc(), NotificationStat.channel, NotificationStat.category
        ).limit(limit)
        with deps.session_factory() as session:
            return {"period": period, "items": [_stat_json(row) for row in session.scalars(statement)]}

    @app.get("/v1/admin/maintenance-runs", dependencies=admin)
    def list_maintenance_runs(
        task: Literal["retention", "rollup", "dead_letter_watchdog"] | None = None,
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ):
        condition = [MaintenanceRun.task == task] if task else []
        with deps.session_factory() as session:
            count = session.scalar(select(func.count()).select_from(MaintenanceRun).where(*condition))
            rows = session.scalars(
                select(MaintenanceRun)
                .where(*condition)
                .order_by(MaintenanceRun.started_at.desc(), MaintenanceRun.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return {"count": count, "items": [_run_json(row) for row in rows]}
