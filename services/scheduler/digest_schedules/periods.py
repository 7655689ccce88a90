"""When a digest schedule comes due: pure functions of a schedule and an instant (no clock).

A schedule runs once per period (a local day, an ISO week, or a month, in its own time zone) at
its local ``delivery_time``, on ``delivery_day`` for weekly (1 = Monday ... 7 = Sunday) and
monthly (1-31) schedules. Each period is named by a *period key*: ``2026-11-24`` (daily),
``2026-W48`` (weekly, the ISO week), ``2026-11`` (monthly).

Policies:

* A monthly day past the month's end means the month's last day: 31 runs on Feb 28 (29 in a leap
  year) and Apr 30.
* A local time that does not exist (the spring-forward gap) runs the same wall-clock distance
  after the gap's start, measured past its end: 02:30 in a 02:00 -> 03:00 gap runs at 03:30.
* A local time that happens twice (fall back) runs once, at its first occurrence.

Both are what Python calls ``fold=0``: the local time is read with the offset in force before
the transition.
"""

import calendar
import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from shared.schemas.scheduler import Frequency


@dataclass(frozen=True)
class ScheduleSpec:
    frequency: Frequency
    delivery_time: str  # "HH:MM", local
    delivery_day: int | None  # weekly 1-7 (Monday 1), monthly 1-31, daily None
    timezone: str  # IANA name


@dataclass(frozen=True)
class Occurrence:
    """One run of a schedule: the instant (aware, UTC) and the period it belongs to."""

    at: datetime
    period_key: str


@functools.lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def next_occurrence_after(spec: ScheduleSpec, instant: datetime) -> Occurrence:
    """The first run strictly after ``instant``."""
    return occurrences_around(spec, instant)[1]


def occurrences_around(spec: ScheduleSpec, instant: datetime) -> tuple[Occurrence, Occurrence]:
    """The last run at or before ``instant`` (what a scan that finds the schedule due emits, its
    period key naming the period) and the first run after it, found in one walk."""
    period = _period_containing(spec, instant)
    current = _occurrence(spec, period)
    while current.at > instant:
        period -= 1
        current = _occurrence(spec, period)
    following = _occurrence(spec, period + 1)
    while following.at <= instant:
        period += 1
        current, following = following, _occurrence(spec, period + 1)
    return current, following


# Periods are numbered by an integer, so stepping back and forth is arithmetic:
# daily: the date's ordinal; weekly: the ordinal of its Monday // 7 (date.min, ordinal 1, is a
# Monday); monthly: year * 12 + month - 1.


def _period_containing(spec: ScheduleSpec, instant: datetime) -> int:
    local_date = instant.astimezone(zone(spec.timezone)).date()
    if spec.frequency == "daily":
        return local_date.toordinal()
    if spec.frequency == "weekly":
        return (local_date.toordinal() - 1) // 7
    if spec.frequency == "monthly":
        return local_date.year * 12 + local_date.month - 1
    raise ValueError(f"unknown frequency {spec.frequency!r}")


def _occurrence(spec: ScheduleSpec, period: int) -> Occurrence:
    if spec.frequency == "daily":
        day = date.fromordinal(period)
        key = day.isoformat()
    elif spec.frequency == "weekly":
        monday = date.fromordinal(period * 7 + 1)
        day = monday + timedelta(days=spec.delivery_day - 1)
        iso_year, iso_week, _ = monday.isocalendar()
        key = f"{iso_year:04d}-W{iso_week:02d}"
    else:
        year, month_index = divmod(period, 12)
        month = month_index + 1
        day = date(year, month, min(spec.delivery_day, calendar.monthrange(year, month)[1]))
        key = f"{year:04d}-{month:02d}"
    local = datetime.combine(day, parse_delivery_time(spec.delivery_time), tzinfo=zone(spec.timezone))
    # fold=0 (the default): a time in a gap is read with the earlier offset, which lands it past
    # the gap by its distance into it; a repeated time is its first occurrence.
    return Occurrence(at=local.astimezone(timezone.utc), period_key=key)


@functools.lru_cache(maxsize=2048)
def parse_delivery_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
