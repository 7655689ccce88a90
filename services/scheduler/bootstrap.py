"""scheduler's composition root. It runs APScheduler and only emits events; the owners of the
data do the work. The recurring schedules themselves arrive with digests and maintenance."""

from apscheduler.schedulers.background import BackgroundScheduler

from services.scheduler.api import build_app
from services.scheduler.settings import SchedulerSettings
from shared.clock import Clock
from shared.health import broker_check, database_check
from shared.platform import build_platform
from shared.runtime import HttpServer, Service


class SchedulerRunner:
    name = "scheduler-apscheduler"

    def __init__(self) -> None:
        self.scheduler = BackgroundScheduler(timezone="UTC")

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)

    def check(self) -> None:
        if not self.scheduler.running:
            raise RuntimeError("APScheduler is not running")

#: The settings this service reads; ``herald`` builds them first to fail fast on bad values.
SETTINGS_CLASS = SchedulerSettings


def bootstrap(settings: SchedulerSettings | None = None, *, clock: Clock | None = None) -> Service:
    settings = settings or SchedulerSettings()
    platform = build_platform(settings, runs_workers=False, clock=clock)
    runner = SchedulerRunner()
    app = build_app(
        {
            "database": database_check(platform.engine),
            "broker": broker_check(settings.amqp_url),
            "scheduler": runner.check,
        }
    )
    return Service(
        name="scheduler",
        intake=[HttpServer("scheduler-http", app, settings.http_host, settings.scheduler_port)],
        work=[runner],
        on_close=[platform.close],
    )
