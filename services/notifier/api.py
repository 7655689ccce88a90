"""notifier's HTTP API: the app, with a router per resource from each capability."""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.notifier.jobs.routes import JobsApiDeps, jobs_routers
from services.notifier.maintenance.routes import MaintenanceApiDeps, maintenance_routers
from services.notifier.notifications.routes import NotificationApiDeps, notification_routers
from shared.web.app import build_service_app


@dataclass
class NotifierApiDeps:
    jobs: JobsApiDeps
    notifications: NotificationApiDeps
    maintenance: MaintenanceApiDeps
    readiness_checks: dict[str, Callable[[], None]]
    metrics_registry: CollectorRegistry


def build_app(deps: NotifierApiDeps) -> FastAPI:
    return build_service_app(
        "Herald notifier",
        readiness_checks=deps.readiness_checks,
        metrics_registry=deps.metrics_registry,
        routers=[
            *jobs_routers(deps.jobs),
            *notification_routers(deps.notifications),
            *maintenance_routers(deps.maintenance),
        ],
    )
