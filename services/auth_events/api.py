"""auth_events' HTTP API: ``POST /v1/events``, the same facts as the ``auth.events`` exchange."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.auth_events.handlers import AuthEventsDeps, accept_signed_in
from shared.event_route import install_event_route
from shared.http import install_health_routes, install_problem_handlers
from shared.metrics import install_metrics_route
from shared.schemas import UserSignedInV1


@dataclass
class AuthEventsApiDeps:
    handler_deps: AuthEventsDeps
    api_keys: list[str]
    max_event_bytes: int
    readiness_checks: dict[str, Callable[[], None]]
    count: Callable[[str, str], None]
    metrics_registry: CollectorRegistry


def build_app(deps: AuthEventsApiDeps) -> FastAPI:
    app = FastAPI(title="Herald auth_events", version="1")
    install_problem_handlers(app)
    install_health_routes(app, deps.readiness_checks)
    install_metrics_route(app, deps.metrics_registry)
    install_event_route(
        app,
        "/v1/events",
        UserSignedInV1,
        partial(accept_signed_in, received_via="http", deps=deps.handler_deps),
        api_keys=deps.api_keys,
        max_body_bytes=deps.max_event_bytes,
        count=deps.count,
    )
    return app
