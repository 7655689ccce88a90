from pydantic import Field, field_validator

from services.scheduler.recurring.crontab import crontab_trigger
from shared.schemas.base import known_time_zone
from shared.schemas.scheduler import MAX_DIGESTS_PER_BATCH
from shared.settings import PlatformSettings, Port


class SchedulerSettings(PlatformSettings):
    scheduler_port: Port = 8003
    #: Time zone the recurring schedules' cron expressions are read in.
    scheduler_timezone: str = "UTC"
    #: How often the due scan looks for digest schedules that have come due.
    digest_scan_interval_s: int = Field(30, ge=1)
    #: Digests per ``digest.due`` batch message (and per scan transaction).
    digest_scan_batch_size: int = Field(1000, ge=1, le=MAX_DIGESTS_PER_BATCH)
    #: Recurring maintenance, as standard five-field cron expressions (0 or 7 = Sunday).
    retention_cron: str = "30 3 * * *"
    rollup_hourly_cron: str = "5 * * * *"
    rollup_daily_cron: str = "15 0 * * *"
    rollup_weekly_cron: str = "30 0 * * 1"
    rollup_monthly_cron: str = "45 0 1 * *"
    dead_letter_watchdog_cron: str = "*/5 * * * *"

    _known_zone = field_validator("scheduler_timezone")(known_time_zone)

    @field_validator(
        "retention_cron",
        "rollup_hourly_cron",
        "rollup_daily_cron",
        "rollup_weekly_cron",
        "rollup_monthly_cron",
        "dead_letter_watchdog_cron",
    )
    @classmethod
    def _valid_cron(cls, expression: str) -> str:
        try:
            crontab_trigger(expression, "UTC")
        except ValueError as error:  # the message starts with the expression, which is shown already
            reason = str(error).removeprefix(f"{expression!r}: ").replace("Error validating expression ", "")
            raise ValueError(f"expected a five-field cron expression (minute hour day month weekday): {reason}") from None
        return expression
