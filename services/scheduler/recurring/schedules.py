"""The recurring schedules: configuration (cron and time zone), listed with their next run times.

Each maintenance schedule emits one ``maintenance.<task>.due`` event when it fires; the digest
scan runs on an interval and emits ``digest.due`` batches for the digest schedules that came due.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from services.scheduler.recurring.crontab import crontab_trigger
from services.scheduler.settings import SchedulerSettings
from shared.schemas.scheduler import MaintenanceTask, RollupPeriod
from shared.topology import DIGEST_DUE_KEY, maintenance_key

DIGEST_SCAN = "digest-scan"


@dataclass(frozen=True)
class RecurringSchedule:
    name: str
    #: What it looks like in configuration: a cron expression, or "every N s".
    spec: str
    timezone: str
    trigger: BaseTrigger
    #: The routing key of what it emits.
    emits: str
    #: For maintenance schedules: the task and, for rollups, the period.
    task: MaintenanceTask | None = None
    period: RollupPeriod | None = None

    def next_run_at(self, now: datetime) -> datetime | None:
        return self.trigger.get_next_fire_time(None, now)


def _maintenance(
    name: str, cron: str, timezone: str, task: MaintenanceTask, period: RollupPeriod | None = None
) -> RecurringSchedule:
    return RecurringSchedule(
        name=name,
        spec=cron,
        timezone=timezone,
        trigger=crontab_trigger(cron, timezone),
        emits=maintenance_key(task),
        task=task,
        period=period,
    )


def recurring_schedules(settings: SchedulerSettings) -> list[RecurringSchedule]:
    zone = settings.scheduler_timezone
    return [
        RecurringSchedule(
            name=DIGEST_SCAN,
            spec=f"every {settings.digest_scan_interval_s} s",
            timezone=zone,
            # A fixed start makes "next run" the same whoever asks, and independent of start-up.
            trigger=IntervalTrigger(
                seconds=settings.digest_scan_interval_s, start_date=datetime(2026, 1, 1), timezone=zone
            ),
            emits=DIGEST_DUE_KEY,
        ),
        _maintenance("retention", settings.retention_cron, zone, "retention"),
        _maintenance("rollup-hourly", settings.rollup_hourly_cron, zone, "rollup", "hourly"),
        _maintenance("rollup-daily", settings.rollup_daily_cron, zone, "rollup", "daily"),
        _maintenance("rollup-weekly", settings.rollup_weekly_cron, zone, "rollup", "weekly"),
        _maintenance("rollup-monthly", settings.rollup_monthly_cron, zone, "rollup", "monthly"),
        _maintenance("dead-letter-watchdog", settings.dead_letter_watchdog_cron, zone, "dead_letter_watchdog"),
    ]


def scheduled_minute(fired_at: datetime) -> datetime:
    """The cron minute a run belongs to.

    Cron runs fire on whole minutes and APScheduler starts them within ``MISFIRE_GRACE`` of that
    (a later one is skipped and coalesced), so the run's minute is the same for every scheduler
    process that fires it: the key that lets two schedulers emit one event.
    """
    return fired_at.replace(second=0, microsecond=0)


#: A run starting later than this after its time is skipped (and coalesced with the next).
MISFIRE_GRACE = timedelta(seconds=30)
