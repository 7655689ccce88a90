"""scheduler's HTTP API: the app, with the recurring schedules and the digest schedules."""

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from shared.web.app import build_service_app


def build_app(
    readiness_checks: dict[str, Callable[[], None]],
    metrics_registry: CollectorRegistry,
    routers: list[APIRouter],
) -> FastAPI:
    return build_service_app(
        "Herald scheduler", readiness_checks=readiness_checks, metrics_registry=metrics_registry, routers=routers
    )
