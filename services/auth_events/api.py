"""auth_events' HTTP API: ``POST /v1/events``, the same facts as the ``auth.events`` exchange."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from services.auth_events.handlers import AuthEventsDeps, accept_signed_in
from shared.schemas import UserSignedInV1
from shared.web.app import build_service_app
from shared.web.event_route import install_event_route

#: The body ``/docs`` offers to "Try it out" with: a valid sign-in event.
EXAMPLE_EVENT = {
    "event_id": "0b7e6a0c-4a41-4a8e-9d1f-6a3f0e1c2b11",
    "type": "auth.user.signed_in",
    "version": 1,
    "occurred_at": "2026-11-23T08:15:00Z",
    "user": {"id": "u-123", "email": "bat@example.mn", "name": "Бат", "locale": "mn", "timezone": "Asia/Ulaanbaatar"},
    "context": {"provider": "github", "ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"},
}


@dataclass
class AuthEventsApiDeps:
    handler_deps: AuthEventsDeps
    api_keys: list[str]
    max_event_bytes: int
    readiness_checks: dict[str, Callable[[], None]]
    count: Callable[[str, str], None]
    metrics_registry: CollectorRegistry


def events_router(deps: AuthEventsApiDeps) -> APIRouter:
    router = APIRouter(tags=["events"])
    install_event_route(
        router,
        "/v1/events",
        UserSignedInV1,
        partial(accept_signed_in, received_via="http", deps=deps.handler_deps),
        job_status=deps.handler_deps.intake.ledger.status_of,
        example=EXAMPLE_EVENT,
        api_keys=deps.api_keys,
        max_body_bytes=deps.max_event_bytes,
        count=deps.count,
    )
    return router


def build_app(deps: AuthEventsApiDeps) -> FastAPI:
    return build_service_app(
        "Herald auth_events",
        readiness_checks=deps.readiness_checks,
        metrics_registry=deps.metrics_registry,
        routers=[events_router(deps)],
    )
