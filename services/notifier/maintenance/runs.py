"""The record of maintenance runs, which is also the watchdog's memory of its last alert."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notifier.maintenance.deps import MaintenanceDeps, TaskResult
from services.notifier.tables import MaintenanceRun
from shared.db import unit_of_work


def record_run(deps: MaintenanceDeps, *, job_id: str | None, task: str, started_at: datetime, result: TaskResult) -> None:
    finished_at = deps.clock.now()
    with unit_of_work(deps.session_factory) as session:
        session.add(
            MaintenanceRun(
                job_id=job_id,
                task=task,
                period=result.period,
                period_start=result.period_start,
                started_at=started_at,
                finished_at=finished_at,
                duration_ms=int((finished_at - started_at).total_seconds() * 1000),
                rows=result.rows,
                details=result.details,
                error=result.error,
            )
        )


def latest_run(session: Session, task: str) -> MaintenanceRun | None:
    return session.scalars(
        select(MaintenanceRun)
        .where(MaintenanceRun.task == task)
        .order_by(MaintenanceRun.started_at.desc(), MaintenanceRun.id.desc())
        .limit(1)
    ).first()
