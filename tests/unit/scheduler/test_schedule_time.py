"""Next-run and period-key computation at fixed instants: DST both ways, month ends, leap years,
ISO weeks across a year end, time zones far from UTC."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.scheduler.digest_schedules.periods import ScheduleSpec, next_occurrence_after, occurrences_around
from tests.fakes.clock import FakeClock

UTC = timezone.utc


def latest_occurrence_at_or_before(spec: ScheduleSpec, instant: datetime):
    return occurrences_around(spec, instant)[0]


def period_key(spec: ScheduleSpec, occurrence_at: datetime) -> str:
    """The period key of the run at ``occurrence_at`` (or of the last run before it)."""
    return latest_occurrence_at_or_before(spec, occurrence_at).period_key


def local(zone: str, *args, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)


def daily(at: str, zone: str = "UTC") -> ScheduleSpec:
    return ScheduleSpec("daily", at, None, zone)


def weekly(day: int, at: str, zone: str = "UTC") -> ScheduleSpec:
    return ScheduleSpec("weekly", at, day, zone)


def monthly(day: int, at: str, zone: str = "UTC") -> ScheduleSpec:
    return ScheduleSpec("monthly", at, day, zone)


def runs(spec: ScheduleSpec, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` runs, as a scan on a clock that jumps to each one would see them."""
    clock = FakeClock(after)
    found = []
    for _ in range(count):
        occurrence = next_occurrence_after(spec, clock.now())
        found.append(occurrence.at)
        clock.current = occurrence.at
    return found


def test_the_next_run_is_strictly_after_the_instant():
    spec = daily("08:00")
    at_eight = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert next_occurrence_after(spec, at_eight).at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert next_occurrence_after(spec, at_eight - timedelta(microseconds=1)).at == at_eight


def test_runs_are_aware_utc_datetimes():
    occurrence = next_occurrence_after(daily("08:00", "Asia/Ulaanbaatar"), datetime(2026, 11, 23, 23, tzinfo=UTC))
    assert occurrence.at.tzinfo is UTC
    assert occurrence.at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00 at UTC+8


def test_daily_at_midnight_runs_at_the_start_of_each_local_day():
    spec = daily("00:00", "Europe/Berlin")
    found = runs(spec, datetime(2026, 11, 23, 22, 0, tzinfo=UTC), 2)
    assert found == [local("Europe/Berlin", 2026, 11, 24), local("Europe/Berlin", 2026, 11, 25)]
    assert [period_key(spec, at) for at in found] == ["2026-11-24", "2026-11-25"]


def test_a_run_in_the_spring_forward_gap_runs_as_far_past_the_gap_as_it_was_into_it():
    # New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist.
    spec = daily("02:30", "America/New_York")
    found = runs(spec, local("America/New_York", 2026, 3, 7, 12, 0), 3)
    assert found == [
        local("America/New_York", 2026, 3, 8, 3, 30),  # 02:30 EST + 0 = 07:30 UTC = 03:30 EDT
        local("America/New_York", 2026, 3, 9, 2, 30),
        local("America/New_York", 2026, 3, 10, 2, 30),
    ]
    assert found[0] == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert period_key(spec, found[0]) == "2026-03-08"


def test_a_time_that_happens_twice_at_fall_back_runs_once_at_its_first_occurrence():
    # New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
    spec = daily("01:30", "America/New_York")
    found = runs(spec, local("America/New_York", 2026, 10, 31, 12, 0), 3)
    assert found == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT, the first one
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC),  # 01:30 EST
        datetime(2026, 11, 3, 6, 30, tzinfo=UTC),
    ]
    # The second 01:30 (EST, an hour later) is not a run of its own.
    assert next_occurrence_after(spec, found[0]).at == found[1]


def test_berlin_keeps_its_local_time_across_both_changes():
    spec = daily("08:00", "Europe/Berlin")
    assert runs(spec, datetime(2026, 3, 28, 12, 0, tzinfo=UTC), 2) == [
        datetime(2026, 3, 29, 6, 0, tzinfo=UTC),  # CEST from 2026-03-29
        datetime(2026, 3, 30, 6, 0, tzinfo=UTC),
    ]
    assert runs(spec, datetime(2026, 10, 24, 12, 0, tzinfo=UTC), 2) == [
        datetime(2026, 10, 25, 7, 0, tzinfo=UTC),  # CET from 2026-10-25
        datetime(2026, 10, 26, 7, 0, tzinfo=UTC),
    ]


def test_berlin_gap_and_repeat():
    # 2026-03-29 02:00 -> 03:00; 2026-10-25 03:00 -> 02:00.
    assert next_occurrence_after(daily("02:15", "Europe/Berlin"), datetime(2026, 3, 28, 12, tzinfo=UTC)).at == (
        local("Europe/Berlin", 2026, 3, 29, 3, 15)
    )
    assert next_occurrence_after(daily("02:15", "Europe/Berlin"), datetime(2026, 10, 24, 12, tzinfo=UTC)).at == (
        datetime(2026, 10, 25, 0, 15, tzinfo=UTC)  # 02:15 CEST, the first of the two
    )


def test_a_monthly_day_past_the_months_end_runs_on_its_last_day():
    spec = monthly(31, "09:00")
    found = runs(spec, datetime(2027, 1, 1, tzinfo=UTC), 5)
    assert [at.date().isoformat() for at in found] == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
        "2027-05-31",
    ]
    assert [period_key(spec, at) for at in found] == ["2027-01", "2027-02", "2027-03", "2027-04", "2027-05"]


def test_february_29_in_a_leap_year():
    spec = monthly(30, "09:00")
    assert next_occurrence_after(spec, datetime(2028, 2, 1, tzinfo=UTC)).at == datetime(2028, 2, 29, 9, tzinfo=UTC)
    assert next_occurrence_after(daily("09:00"), datetime(2028, 2, 28, 10, tzinfo=UTC)).at == (
        datetime(2028, 2, 29, 9, tzinfo=UTC)
    )
    assert next_occurrence_after(monthly(29, "09:00"), datetime(2027, 2, 1, tzinfo=UTC)).at == (
        datetime(2027, 2, 28, 9, tzinfo=UTC)
    )


def test_weekly_runs_on_the_day_named_with_monday_as_1():
    spec = weekly(1, "09:00")  # Mondays
    found = runs(spec, datetime(2026, 11, 24, tzinfo=UTC), 2)  # a Tuesday
    assert found == [datetime(2026, 11, 30, 9, tzinfo=UTC), datetime(2026, 12, 7, 9, tzinfo=UTC)]
    assert [period_key(spec, at) for at in found] == ["2026-W49", "2026-W50"]
    assert next_occurrence_after(weekly(7, "09:00"), datetime(2026, 11, 24, tzinfo=UTC)).at == (
        datetime(2026, 11, 29, 9, tzinfo=UTC)  # Sunday of the same ISO week
    )
    assert period_key(weekly(7, "09:00"), datetime(2026, 11, 29, 9, tzinfo=UTC)) == "2026-W48"


def test_weekly_across_the_year_end_uses_iso_weeks():
    # ISO 2026 has 53 weeks: 2026-W53 runs Mon 2026-12-28 to Sun 2027-01-03.
    spec = weekly(5, "10:00")  # Fridays
    found = runs(spec, datetime(2026, 12, 20, tzinfo=UTC), 3)
    assert [at.date().isoformat() for at in found] == ["2026-12-25", "2027-01-01", "2027-01-08"]
    assert [period_key(spec, at) for at in found] == ["2026-W52", "2026-W53", "2027-W01"]
    sunday = weekly(7, "10:00")
    assert period_key(sunday, next_occurrence_after(sunday, datetime(2026, 12, 29, tzinfo=UTC)).at) == "2026-W53"


def test_period_keys_are_local_not_utc():
    # 07:00 in Ulaanbaatar (UTC+8) on Nov 24 is 23:00 UTC on Nov 23.
    spec = daily("07:00", "Asia/Ulaanbaatar")
    occurrence = next_occurrence_after(spec, datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert occurrence.at == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert occurrence.period_key == "2026-11-24"


def test_kiritimati_fourteen_hours_ahead_of_utc():
    spec = monthly(1, "00:30", "Pacific/Kiritimati")
    occurrence = next_occurrence_after(spec, datetime(2026, 11, 30, 0, 0, tzinfo=UTC))
    # 00:30 on Dec 1 at UTC+14 is 10:30 UTC on Nov 30.
    assert occurrence.at == datetime(2026, 11, 30, 10, 30, tzinfo=UTC)
    assert occurrence.period_key == "2026-12"


def test_the_latest_run_at_or_before_an_instant_is_the_one_to_catch_up_on():
    spec = daily("08:00", "Europe/Berlin")
    after_three_missed_days = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    latest = latest_occurrence_at_or_before(spec, after_three_missed_days)
    assert latest.at == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert latest.period_key == "2026-11-27"
    assert latest_occurrence_at_or_before(spec, latest.at) == latest
    before = latest_occurrence_at_or_before(spec, latest.at - timedelta(seconds=1))
    assert before.period_key == "2026-11-26"


@pytest.mark.parametrize(
    "spec",
    [
        daily("02:30", "America/New_York"),
        weekly(7, "01:30", "America/New_York"),
        monthly(31, "23:59", "Pacific/Kiritimati"),
        daily("00:00", "Asia/Ulaanbaatar"),
    ],
)
def test_successive_runs_are_increasing_with_distinct_periods_over_a_year(spec):
    found = runs(spec, datetime(2026, 1, 1, tzinfo=UTC), 60)
    assert found == sorted(set(found))
    keys = [period_key(spec, at) for at in found]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize(
    "spec",
    [
        daily("02:30", "America/New_York"),
        weekly(5, "10:00", "Pacific/Kiritimati"),
        monthly(31, "00:00", "Europe/Berlin"),
    ],
)
def test_occurrences_around_bracket_the_instant_with_consecutive_runs(spec):
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(200):
        latest, following = occurrences_around(spec, instant)
        assert latest.at <= instant < following.at
        assert occurrences_around(spec, latest.at) == (latest, following), "no run between the two"
        assert occurrences_around(spec, following.at - timedelta(microseconds=1)) == (latest, following)
        instant += timedelta(hours=37)
