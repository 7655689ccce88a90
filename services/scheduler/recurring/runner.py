"""APScheduler running the recurring schedules, one job each."""

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import OperationalError

from services.scheduler.recurring.schedules import MISFIRE_GRACE, RecurringSchedule
from shared.errors import TransientError

logger = logging.getLogger("herald.scheduler")


def warn_on_transient_failure(name: str, run: Callable[[], object]) -> Callable[[], None]:
    """A run that fails for a passing reason (the broker or the database is away) is one warning
    line; the next run tries again. Anything else APScheduler logs with its traceback."""

    def job() -> None:
        try:
            run()
        except (TransientError, OperationalError) as error:
            logger.warning("scheduled run failed; the next one tries again", extra={"schedule": name, "error": str(error)})

    return job


class SchedulerRunner:
    """APScheduler with one job per recurring schedule."""

    name = "scheduler-apscheduler"

    def __init__(
        self, schedules: list[RecurringSchedule], run: dict[str, Callable[[], object]], timezone: str
    ) -> None:
        self.schedules = schedules
        self.scheduler = BackgroundScheduler(timezone=timezone)
        for schedule in schedules:
            self.scheduler.add_job(
                warn_on_transient_failure(schedule.name, run[schedule.name]),
                trigger=schedule.trigger,
                id=schedule.name,
                name=schedule.name,
                # One run at a time; runs missed while busy or down become one run, not a burst.
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
            )

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)

    def check(self) -> None:
        if not self.scheduler.running:
            raise RuntimeError("APScheduler is not running")

    def next_runs(self) -> list[tuple[RecurringSchedule, object]]:
        return [(schedule, self.scheduler.get_job(schedule.name).next_run_time) for schedule in self.schedules]
