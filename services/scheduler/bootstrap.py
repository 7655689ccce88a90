"""scheduler's composition root. It runs APScheduler and only emits events; the owners of the
data do the work: notifier builds digests and keeps its data, auth_events keeps its history."""

from functools import partial

from services.migrations.migrate import schema_is_current
from services.scheduler.api import build_app
from services.scheduler.digest_schedules.routes import build_digest_schedules_router
from services.scheduler.digest_schedules.scan import DigestScan
from services.scheduler.metrics import DigestScheduleCollector, SchedulerMetrics
from services.scheduler.recurring.emitter import MaintenanceEmitter
from services.scheduler.recurring.routes import recurring_schedules_router
from services.scheduler.recurring.runner import SchedulerRunner
from services.scheduler.recurring.schedules import DIGEST_SCAN, recurring_schedules
from services.scheduler.settings import SchedulerSettings
from shared.amqp.event_publisher import EventPublisher
from shared.clock import Clock
from shared.runtime.platform import build_platform
from shared.runtime.service import HttpServer, Service
from shared.topology import AUTH_EVENTS_MAINTENANCE, NOTIFIER_SCHEDULED

#: The settings this service reads; ``herald`` builds them first to fail fast on bad values.
SETTINGS_CLASS = SchedulerSettings


def bootstrap(settings: SchedulerSettings | None = None, *, clock: Clock | None = None) -> Service:
    settings = settings or SchedulerSettings()
    platform = build_platform(settings, runs_workers=False, schema_is_current=schema_is_current, clock=clock)
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
    metrics = SchedulerMetrics(platform.metrics_registry)
    platform.metrics_registry.register(DigestScheduleCollector(platform.session_factory, platform.clock))
    run = {schedule.name: partial(emitter.emit, schedule) for schedule in schedules if schedule.task}
    run[DIGEST_SCAN] = metrics.counting_digests(digest_scan.run_once)
    run = {name: metrics.timed(name, job) for name, job in run.items()}
    runner = SchedulerRunner(schedules, run, settings.scheduler_timezone)
    app = build_app(
        {
            **platform.readiness_checks(),
            "scheduler": runner.check,
        },
        metrics_registry=platform.metrics_registry,
        routers=[
            recurring_schedules_router(runner.next_runs),
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
