"""scheduler's composition root. It runs APScheduler and only emits events; the owners of the
data do the work: notifier builds digests and keeps its data, auth_events keeps its history."""

import logging
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler

from services.scheduler.api import build_app
from services.scheduler.digest_api import build_digest_schedules_router
from services.scheduler.digest_scan import DigestScan
from services.scheduler.maintenance_events import MaintenanceEmitter
from services.scheduler.recurring import DIGEST_SCAN, MISFIRE_GRACE, RecurringSchedule, recurring_schedules
from services.scheduler.settings import SchedulerSettings
from shared.clock import Clock
from shared.errors import TransientError
from shared.event_publisher import EventPublisher
from shared.health import broker_check, database_check
from shared.platform import build_platform
from shared.runtime import HttpServer, Service
from shared.topology import AUTH_EVENTS_MAINTENANCE, NOTIFIER_SCHEDULED

logger = logging.getLogger("herald.scheduler")

#: The settings this service reads; ``herald`` builds them first to fail fast on bad values.
SETTINGS_CLASS = SchedulerSettings


def warn_on_transient_failure(name: str, run):
    """A run that fails for a passing reason (the broker is away) is one warning line; the next
    run tries again. Anything else APScheduler logs with its traceback."""

    def job() -> None:
        try:
            run()
        except TransientError as error:
            logger.warning("scheduled run failed; the next one tries again", extra={"schedule": name, "error": str(error)})

    return job


class SchedulerRunner:
    """APScheduler with one job per recurring schedule."""

    name = "scheduler-apscheduler"

    def __init__(self, schedules: list[RecurringSchedule], run: dict[str, callable], timezone: str) -> None:
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


def bootstrap(settings: SchedulerSettings | None = None, *, clock: Clock | None = None) -> Service:
    settings = settings or SchedulerSettings()
    platform = build_platform(settings, runs_workers=False, clock=clock)
    # The queues of what the scheduler emits exist before their consumers first start, so an
    # event emitted meanwhile waits for them instead of being refused as unroutable.
    for queue in (NOTIFIER_SCHEDULED, AUTH_EVENTS_MAINTENANCE):
        queue.declare(platform.broker.channel)
    publisher = EventPublisher(settings.amqp_url)
    digest_scan = DigestScan(
        platform.session_factory, publisher, platform.clock, batch_size=settings.digest_scan_batch_size
    )
    emitter = MaintenanceEmitter(publisher, platform.clock)
    schedules = recurring_schedules(settings)
    run = {schedule.name: partial(emitter.emit, schedule) for schedule in schedules if schedule.task}
    run[DIGEST_SCAN] = digest_scan.run_once
    runner = SchedulerRunner(schedules, run, settings.scheduler_timezone)
    app = build_app(
        {
            "database": database_check(platform.engine),
            "broker": broker_check(settings.amqp_url),
            "scheduler": runner.check,
        },
        recurring=runner.next_runs,
        routers=[
            build_digest_schedules_router(
                session_factory=platform.session_factory, clock=platform.clock, api_keys=settings.ingress_api_keys
            )
        ],
    )
    return Service(
        name="scheduler",
        intake=[HttpServer("scheduler-http", app, settings.http_host, settings.scheduler_port)],
        work=[runner],
        on_close=[publisher.close, platform.close],
    )
