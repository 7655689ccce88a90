"""auth_events' HTTP API: ``POST /v1/events``, the same facts as the ``auth.events`` exchange."""

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from services.auth_events.handlers import AuthEventsDeps, accept_signed_in
from services.auth_events.metrics import IngressMetrics
from shared.correlation import correlation_scope
from shared.metrics import install_metrics_route
from shared.http import install_health_routes, install_problem_handlers, problem, validation_errors
from shared.publisher import PublishFailed
from shared.schemas import UserSignedInV1

CORRELATION_HEADER = "X-Correlation-ID"
#: Seconds a client should wait after a 503 before posting the same event again.
RETRY_AFTER_S = 5


@dataclass
class AuthEventsApiDeps:
    handler_deps: AuthEventsDeps
    api_keys: list[str]
    max_event_bytes: int
    readiness_checks: dict[str, Callable[[], None]]
    metrics: IngressMetrics
    metrics_registry: CollectorRegistry


class BodyTooLarge(Exception):
    pass


async def read_limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def valid_api_key(given: str | None, api_keys: list[str]) -> bool:
    if not api_keys:
        return True
    return given is not None and any(hmac.compare_digest(given.encode(), key.encode()) for key in api_keys)


def build_app(deps: AuthEventsApiDeps) -> FastAPI:
    app = FastAPI(title="Herald auth_events", version="1")
    install_problem_handlers(app)
    install_health_routes(app, deps.readiness_checks)
    install_metrics_route(app, deps.metrics_registry)
    count = deps.metrics.count

    @app.post("/v1/events", status_code=202)
    async def post_event(request: Request):
        if not valid_api_key(request.headers.get("x-api-key"), deps.api_keys):
            count("http", "refused")
            return problem(401, "Missing or wrong API key", headers={"WWW-Authenticate": "X-API-Key"})
        try:
            body = await read_limited_body(request, deps.max_event_bytes)
        except BodyTooLarge:
            count("http", "refused")
            return problem(413, "Event too large", f"An event may be at most {deps.max_event_bytes} bytes")
        try:
            event = UserSignedInV1.model_validate_json(body)
        except ValidationError as error:
            count("http", "invalid")
            return problem(422, "Invalid event", errors=validation_errors(error.errors()))

        with correlation_scope(request.headers.get(CORRELATION_HEADER)) as correlation_id:
            try:
                acceptance = await run_in_threadpool(
                    accept_signed_in, event, received_via="http", deps=deps.handler_deps
                )
            except (PublishFailed, OperationalError) as error:
                count("http", "unavailable")
                return problem(
                    503,
                    "Not accepted, try again",
                    f"{type(error).__name__}: the event was not recorded",
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                )
        answer = {"event_id": acceptance.event_id, "job_id": acceptance.job_id, "status": "enqueued"}
        headers = {CORRELATION_HEADER: correlation_id}
        count("http", "duplicate" if acceptance.duplicate else "accepted")
        if acceptance.duplicate:
            return JSONResponse({**answer, "duplicate": True}, status_code=200, headers=headers)
        return JSONResponse(answer, status_code=202, headers=headers)

    return app
