"""notifier's recurring maintenance: retention, statistics rollups and the dead-letter watchdog.

The scheduler says when (``maintenance.<task>.due``); ``run_maintenance`` does the task and
records every run in ``maintenance_runs``: start, end, duration, rows, details and error.
"""

import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from services.notifier.maintenance.deps import MaintenanceDeps, TaskResult
from services.notifier.maintenance.retention import run_retention
from services.notifier.maintenance.rollups import run_rollup
from services.notifier.maintenance.runs import record_run
from services.notifier.maintenance.watchdog import run_watchdog
from shared.errors import PermanentError
from shared.schemas.scheduler import MaintenanceDueV1, RunMaintenanceV1

logger = logging.getLogger("herald.notifier.maintenance")

TASKS: dict[str, Callable[[MaintenanceDueV1, MaintenanceDeps], TaskResult]] = {
    "retention": run_retention,
    "rollup": run_rollup,
    "dead_letter_watchdog": run_watchdog,
}


def run_maintenance(command: RunMaintenanceV1, deps: MaintenanceDeps) -> TaskResult:
    due = command.due
    started_at = deps.clock.now()
    try:
        result = TASKS[due.task](due, deps)
    except (SQLAlchemyError, PermanentError) as error:
        # Recorded, then raised so the job is retried (or, for a PermanentError, dead); if the
        # database is what failed, the record may fail too, and the job's ledger entry still tells.
        record_run(
            deps, job_id=command.job_id, task=due.task, started_at=started_at,
            result=TaskResult(period=due.period, error=f"{type(error).__name__}: {error}"[:2000]),
        )
        raise
    record_run(deps, job_id=command.job_id, task=due.task, started_at=started_at, result=result)
    logger.info(
        "maintenance run done",
        extra={"job_id": command.job_id, "task": due.task, "period": result.period, "rows": result.rows, "details": result.details},
    )
    return result
