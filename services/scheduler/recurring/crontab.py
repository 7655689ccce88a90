"""Standard crontab expressions as APScheduler 3 triggers.

APScheduler 3 numbers weekdays from Monday = 0, while cron numbers them from Sunday = 0 (its
``from_crontab`` keeps that mismatch for compatibility, see apscheduler issue 286). Operators
write cron, so numeric weekdays are translated to names before APScheduler sees them.
"""

import re

from apscheduler.triggers.cron import CronTrigger

_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday_names(field: str) -> str:
    # Cron's week starts on Sunday (0), APScheduler's ends on it: "sun-tue" would be a backwards
    # range, so a range from 0 becomes Sunday plus the rest ("0-2" -> "sun,mon-tue").
    field = re.sub(r"(?<![\d-])0-(\d+)", lambda r: "0" if r.group(1) == "0" else f"0,1-{r.group(1)}", field)
    return re.sub(r"\d+", lambda number: _cron_weekday(int(number.group())), field)


def _cron_weekday(number: int) -> str:
    if not 0 <= number <= 7:
        raise ValueError(f"weekday {number} is out of range (0-7, 0 and 7 = Sunday)")
    return _CRON_WEEKDAYS[number]


def crontab_trigger(expression: str, timezone: str) -> CronTrigger:
    """A trigger for a five-field crontab expression (minute hour day month weekday)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r}: a cron expression has five fields, minute hour day month weekday")
    minute, hour, day, month, weekday = fields
    if "/" in weekday and not weekday.startswith("*"):
        raise ValueError(f"{expression!r}: a stepped weekday range is not supported")
    try:
        if not weekday.startswith("*"):
            weekday = _weekday_names(weekday)
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=timezone)
    except ValueError as error:
        raise ValueError(f"{expression!r}: {error}") from None
