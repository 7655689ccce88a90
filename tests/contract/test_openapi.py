"""Each service's OpenAPI names a response schema for every JSON answer of every route, so /docs
shows each shape a client gets. The apps are built as the bootstraps build them, over a database
that is never reached (building the document touches none)."""

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from services.auth_events.api import AuthEventsApiDeps
from services.auth_events.api import build_app as build_auth_events_app
from services.auth_events.bootstrap import build_handler_deps as build_auth_events_deps
from services.scheduler.api import build_app as build_scheduler_app
from services.scheduler.digest_schedules.routes import build_digest_schedules_router
from services.scheduler.recurring.routes import recurring_schedules_router
from shared.jobs.intake import JobIntake
from shared.jobs.ledger import JobLedger
from tests.fakes.clock import FakeClock
from tests.fakes.publisher import RecordingPublisher
from tests.support.notifier_deps import notifier_app

SESSION_FACTORY = sessionmaker(create_engine("sqlite://"))
CLOCK = FakeClock()
LEDGER = JobLedger(SESSION_FACTORY, CLOCK)


def auth_events_app() -> FastAPI:
    return build_auth_events_app(
        AuthEventsApiDeps(
            handler_deps=build_auth_events_deps(intake=JobIntake(SESSION_FACTORY, LEDGER, RecordingPublisher()), clock=CLOCK),
            api_keys=[],
            max_event_bytes=64 * 1024,
            readiness_checks={},
            count=lambda *_: None,
            metrics_registry=CollectorRegistry(),
        )
    )


def scheduler_app() -> FastAPI:
    return build_scheduler_app(
        readiness_checks={},
        metrics_registry=CollectorRegistry(),
        routers=[
            recurring_schedules_router(lambda: []),
            build_digest_schedules_router(session_factory=SESSION_FACTORY, clock=CLOCK, api_keys=[]),
        ],
    )


APPS = {
    "auth_events": auth_events_app,
    "notifier": lambda: notifier_app(SESSION_FACTORY, CLOCK),
    "scheduler": scheduler_app,
}


def json_answers(document: dict):
    """Each (method, path, status, schema) of a successful JSON answer in an OpenAPI document."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("2") and "application/json" in response.get("content", {}):
                    yield method.upper(), path, status, response["content"]["application/json"].get("schema", {})


@pytest.mark.parametrize("service", APPS)
def test_every_json_answer_has_a_schema(service):
    document = APPS[service]().openapi()
    answers = list(json_answers(document))

    assert answers
    unnamed = [f"{method} {path} {status}" for method, path, status, schema in answers if not schema]
    assert unnamed == []


@pytest.mark.parametrize("service", APPS)
def test_every_route_but_a_204_answers_json(service):
    document = APPS[service]().openapi()
    answered = {(method, path) for method, path, _, _ in json_answers(document)}

    without = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if (method.upper(), path) not in answered and "204" not in operation["responses"]
    ]
    assert without == []


def test_a_job_answer_names_each_field_and_its_type():
    schema = notifier_app(SESSION_FACTORY, CLOCK).openapi()["components"]["schemas"]["JobResponse"]

    assert list(schema["properties"]) == [
        "job_id", "type", "status", "attempts", "max_attempts", "last_error", "reason",
        "created_at", "updated_at", "finished_at",
    ]
    assert schema["properties"]["created_at"] == {"type": "string", "format": "date-time", "title": "Created At"}
