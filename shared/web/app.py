"""A service's FastAPI app: problem+json errors, ``/healthz`` and ``/readyz``, ``/metrics``, and
the service's routers, one per resource."""

from collections.abc import Callable, Iterable

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from shared.web.health import install_health_routes
from shared.web.metrics import install_metrics_route
from shared.web.problems import install_problem_handlers


def build_service_app(
    title: str,
    *,
    readiness_checks: dict[str, Callable[[], None]],
    metrics_registry: CollectorRegistry,
    routers: Iterable[APIRouter],
) -> FastAPI:
    app = FastAPI(title=title, version="1")
    install_problem_handlers(app)
    install_health_routes(app, readiness_checks)
    install_metrics_route(app, metrics_registry)
    for router in routers:
        app.include_router(router)
    return app
