"""Rollup period arithmetic and the watchdog's repeat policy: plain functions, no database."""

from datetime import datetime, timedelta, timezone

import pytest

from services.notifier.maintenance.deps import WatchdogPolicy
from services.notifier.maintenance.rollups import previous_period
from services.notifier.maintenance.watchdog import should_alert


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("period", "moment", "start", "end"),
    [
        ("hourly", utc(2026, 11, 24, 10, 0, 5), utc(2026, 11, 24, 9), utc(2026, 11, 24, 10)),
        ("hourly", utc(2026, 11, 24, 0, 30), utc(2026, 11, 23, 23), utc(2026, 11, 24, 0)),
        ("daily", utc(2026, 11, 24, 0, 5), utc(2026, 11, 23), utc(2026, 11, 24)),
        ("daily", utc(2026, 3, 1, 12), utc(2026, 2, 28), utc(2026, 3, 1)),
        ("daily", utc(2028, 3, 1, 0, 1), utc(2028, 2, 29), utc(2028, 3, 1)),
        # 2026-11-24 is a Tuesday: the last complete week is Monday 16th to Monday 23rd.
        ("weekly", utc(2026, 11, 24, 3), utc(2026, 11, 16), utc(2026, 11, 23)),
        ("weekly", utc(2026, 11, 23, 0, 0), utc(2026, 11, 16), utc(2026, 11, 23)),
        ("weekly", utc(2027, 1, 2), utc(2026, 12, 21), utc(2026, 12, 28)),
        ("monthly", utc(2026, 12, 1, 0, 10), utc(2026, 11, 1), utc(2026, 12, 1)),
        ("monthly", utc(2027, 1, 15), utc(2026, 12, 1), utc(2027, 1, 1)),
        ("monthly", utc(2028, 3, 31), utc(2028, 2, 1), utc(2028, 3, 1)),
    ],
)
def test_previous_period_is_the_last_complete_one_in_utc(period, moment, start, end):
    assert previous_period(period, moment) == (start, end)


def test_previous_period_reads_other_zones_as_utc():
    moment = datetime(2026, 11, 24, 7, 30, tzinfo=timezone(timedelta(hours=8)))  # 23:30 UTC the day before
    assert previous_period("daily", moment) == (utc(2026, 11, 22), utc(2026, 11, 23))


POLICY = WatchdogPolicy(threshold=10, repeat_hours=24)
NOW = utc(2026, 11, 24, 12)


def test_the_watchdog_alerts_at_the_threshold_and_not_below():
    assert not should_alert(9, POLICY, NOW, None, None)
    assert should_alert(10, POLICY, NOW, None, None)


def test_the_watchdog_repeats_only_after_the_repeat_interval_or_when_the_count_doubles():
    an_hour_ago = NOW - timedelta(hours=1)
    assert not should_alert(19, POLICY, NOW, an_hour_ago, 10)
    assert should_alert(20, POLICY, NOW, an_hour_ago, 10), "doubled"
    assert should_alert(11, POLICY, NOW, NOW - timedelta(hours=24), 10), "a day later"
