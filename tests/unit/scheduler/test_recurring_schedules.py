"""The recurring schedules: standard cron read right, next runs, and one event per run."""

from datetime import datetime, timezone

import pytest

from services import cli
from services.scheduler.recurring.crontab import crontab_trigger
from services.scheduler.recurring.emitter import maintenance_event
from services.scheduler.recurring.runner import warn_on_transient_failure
from services.scheduler.recurring.schedules import recurring_schedules, scheduled_minute
from services.scheduler.settings import SchedulerSettings
from shared.amqp.publisher import PublishFailed

TUESDAY = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)


def next_fire(expression: str, after: datetime, zone: str = "UTC") -> datetime:
    return crontab_trigger(expression, zone).get_next_fire_time(None, after)


@pytest.mark.parametrize(
    "weekday, expected_day",
    [("1", 30), ("0", 29), ("7", 29), ("2", 24), ("1-5", 24), ("sat,sun", 28), ("*", 24),
     ("0-6", 24), ("0-1", 29), ("0-0", 29), ("5,0-1", 27), ("3-4", 25)],
)
def test_cron_weekdays_count_from_sunday_as_in_crontab(weekday, expected_day):
    # 2026-11-24 is a Tuesday; APScheduler alone would read "1" as Tuesday.
    fired = next_fire(f"30 9 * * {weekday}", TUESDAY)
    assert (fired.day, fired.hour, fired.minute) == (expected_day, 9, 30)


def test_cron_runs_in_its_time_zone():
    fired = next_fire("0 9 * * *", datetime(2026, 11, 24, 0, 30, tzinfo=timezone.utc), "Asia/Ulaanbaatar")
    assert fired == datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
    assert (fired.hour, fired.utcoffset().total_seconds()) == (9, 8 * 3600)


@pytest.mark.parametrize("expression", ["* * * *", "61 * * * *", "0 0 * * 8", "0 0 * * 1/2"])
def test_bad_cron_expressions_are_refused_with_the_reason(expression):
    with pytest.raises(ValueError) as refused:
        crontab_trigger(expression, "UTC")
    assert repr(expression) in str(refused.value)


def test_settings_refuse_a_bad_cron_or_time_zone(monkeypatch):
    monkeypatch.setenv("ROLLUP_DAILY_CRON", "every day")
    with pytest.raises(ValueError, match="five fields"):
        SchedulerSettings(_env_file=None)
    monkeypatch.delenv("ROLLUP_DAILY_CRON")
    monkeypatch.setenv("SCHEDULER_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        SchedulerSettings(_env_file=None)


def test_the_recurring_schedules_come_from_configuration(monkeypatch):
    monkeypatch.setenv("RETENTION_CRON", "0 4 * * 0")
    monkeypatch.setenv("SCHEDULER_TIMEZONE", "Asia/Ulaanbaatar")
    schedules = {schedule.name: schedule for schedule in recurring_schedules(SchedulerSettings(_env_file=None))}
    assert set(schedules) == {
        "digest-scan",
        "retention",
        "rollup-hourly",
        "rollup-daily",
        "rollup-weekly",
        "rollup-monthly",
        "dead-letter-watchdog",
    }
    retention = schedules["retention"]
    assert (retention.spec, retention.timezone, retention.emits) == (
        "0 4 * * 0",
        "Asia/Ulaanbaatar",
        "maintenance.retention.due",
    )
    # The next Sunday 04:00 in Ulaanbaatar is Saturday 20:00 UTC.
    assert retention.next_run_at(TUESDAY) == datetime(2026, 11, 28, 20, 0, tzinfo=timezone.utc)
    assert schedules["rollup-weekly"].period == "weekly"
    assert schedules["digest-scan"].emits == "digest.due"


def test_two_schedulers_firing_the_same_run_emit_the_same_event():
    rollup = next(s for s in recurring_schedules(SchedulerSettings(_env_file=None)) if s.name == "rollup-hourly")
    first = maintenance_event(rollup, scheduled_minute(datetime(2026, 11, 24, 2, 5, 0, 120_000, tzinfo=timezone.utc)), TUESDAY)
    second = maintenance_event(rollup, scheduled_minute(datetime(2026, 11, 24, 2, 5, 3, tzinfo=timezone.utc)), TUESDAY)
    assert first.event_id == second.event_id == "maintenance:rollup:hourly:2026-11-24T02:05Z"
    assert (first.task, first.period) == ("rollup", "hourly")


def test_herald_schedules_lists_each_schedule_with_its_next_run(capsys, monkeypatch):
    monkeypatch.setenv("DEAD_LETTER_WATCHDOG_CRON", "*/10 * * * *")
    assert cli.main(["schedules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "SCHEDULE", "TIMEZONE", "EMITS", "NEXT", "RUN"]
    watchdog = next(line for line in lines if line.startswith("dead-letter-watchdog"))
    assert "*/10 * * * *" in watchdog and "maintenance.dead_letter_watchdog.due" in watchdog
    next_run = datetime.fromisoformat(watchdog.split()[-1])
    assert next_run.minute % 10 == 0 and next_run > datetime.now(timezone.utc)


def test_a_scheduled_run_that_fails_for_a_passing_reason_is_one_warning(caplog):
    def broker_away():
        raise PublishFailed("broker did not confirm: AMQPConnectionError")

    def bug():
        raise KeyError("a bug")

    with caplog.at_level("WARNING", logger="herald.scheduler"):
        warn_on_transient_failure("digest-scan", broker_away)()
    [record] = caplog.records
    assert record.levelname == "WARNING" and record.schedule == "digest-scan"
    with pytest.raises(KeyError):
        warn_on_transient_failure("digest-scan", bug)()
