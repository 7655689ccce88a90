"""Hostile values in every field of both event routes, through the real HTTP app on PostgreSQL
(which refuses NUL characters that SQLite would store): a 422 problem+json naming the field,
never a 500, and the route goes on accepting valid events afterwards.

The broker is not the point here: a recording publisher stands in for it."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from services.auth_events.api import AuthEventsApiDeps, build_app
from services.auth_events.bootstrap import build_handler_deps as build_auth_events_deps
from services.notifier.notifications.routes import NotificationApiDeps, notification_routers
from shared.jobs.intake import JobIntake
from shared.jobs.ledger import JobLedger
from shared.web.problems import PROBLEM_JSON, install_problem_handlers
from tests.fakes.clock import FakeClock
from tests.fakes.publisher import RecordingPublisher
from tests.support.messages import example_messages, replaced, string_leaves
from tests.support.notifier_deps import notifier_deps

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

SIGNED_IN = example_messages()["auth.user.signed_in.v1"]
NOTIFICATION = example_messages()["notification.requested.v1"]
#: Fields whose own rules (a Literal, a pattern, an IP address) refuse anything unusual anyway.
FIXED_FIELDS = {"type", "locale", "category", "template", "ip_address"}


def fields(payload: dict) -> list[tuple]:
    return [path for path in string_leaves(payload) if path[-1] not in FIXED_FIELDS and "channels" not in path]


@pytest.fixture
def auth_client(session_factory):
    clock = FakeClock()
    ledger = JobLedger(session_factory, clock)
    deps = AuthEventsApiDeps(
        handler_deps=build_auth_events_deps(intake=JobIntake(session_factory, ledger, RecordingPublisher()), clock=clock),
        api_keys=[],
        max_event_bytes=64 * 1024,
        readiness_checks={},
        count=lambda *_: None,
        metrics_registry=CollectorRegistry(),
    )
    with TestClient(build_app(deps)) as client:
        yield client


@pytest.fixture
def notification_client(session_factory):
    app = FastAPI()
    install_problem_handlers(app)
    deps = notifier_deps(session_factory, FakeClock()).notifications
    for router in notification_routers(
        NotificationApiDeps(handler_deps=deps, api_keys=[], max_event_bytes=64 * 1024, count=lambda *_: None)
    ):
        app.include_router(router)
    with TestClient(app) as client:
        yield client


def assert_refused(answer, path: tuple) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    path = tuple(map(str, path))
    locations = {tuple(error["loc"]) for error in answer.json()["errors"]}
    # Where the field is, or the object that holds it (data is checked as a whole).
    assert any(location and path[: len(location)] == location for location in locations), locations


def post_each(client, url: str, payload: dict, path: tuple, values: list[str]) -> None:
    for n, value in enumerate(values):
        event = replaced(replaced(payload, path, value), ("event_id",), f"hostile-{n}") if path != ("event_id",) \
            else replaced(payload, path, value)
        assert_refused(client.post(url, json=event), path)
    # The same connection, the same database: valid events are still accepted.
    valid = replaced(payload, ("event_id",), f"valid-after-{'.'.join(map(str, path))}")
    assert client.post(url, json=valid).status_code == 202


NUL_VALUES = ["a\x00b", "\x00", "trailing\x00"]


@pytest.mark.parametrize("path", fields(SIGNED_IN), ids=lambda p: ".".join(map(str, p)))
def test_a_nul_in_any_sign_in_field_is_a_422(auth_client, path):
    post_each(auth_client, "/v1/events", SIGNED_IN, path, NUL_VALUES)


@pytest.mark.parametrize("path", fields(NOTIFICATION), ids=lambda p: ".".join(map(str, p)))
def test_a_nul_in_any_notification_field_is_a_422(notification_client, path):
    post_each(notification_client, "/v1/notifications", NOTIFICATION, path, NUL_VALUES)


def test_a_header_injection_in_a_name_is_a_422(auth_client, notification_client):
    injection = ["Bat\r\nBcc: victim@example.com", "Bat\nBcc: victim@example.com"]
    post_each(auth_client, "/v1/events", SIGNED_IN, ("user", "name"), injection)
    post_each(notification_client, "/v1/notifications", NOTIFICATION, ("recipient", "name"), injection)


def test_time_zones_that_are_not_zones_are_a_422(auth_client, notification_client):
    zones = ["Asia", "America", "Etc", "posixrules", "localtime", "Factory", "right/UTC"]
    post_each(auth_client, "/v1/events", SIGNED_IN, ("user", "timezone"), zones)
    post_each(notification_client, "/v1/notifications", NOTIFICATION, ("recipient", "timezone"), zones)


def test_instants_out_of_range_are_a_422(auth_client, notification_client):
    instants = ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-11-23T08:15:00"]
    post_each(auth_client, "/v1/events", SIGNED_IN, ("occurred_at",), instants)
    post_each(notification_client, "/v1/notifications", NOTIFICATION, ("occurred_at",), instants)


def test_a_lone_surrogate_escape_is_a_422(auth_client):
    body = f'{{"event_id": "e-\\ud800", {str(SIGNED_IN)[1:-1]}}}'.encode()  # not even JSON
    answer = auth_client.post("/v1/events", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM_JSON


def test_an_internationalized_address_is_accepted(auth_client, notification_client):
    for n, address in enumerate(["bat@жишээ.мн", "бат@жишээ.мон"]):
        event = replaced(replaced(SIGNED_IN, ("user", "email"), address), ("event_id",), f"idn-{n}")
        assert auth_client.post("/v1/events", json=event).status_code == 202
        request = replaced(replaced(NOTIFICATION, ("recipient", "email"), address), ("event_id",), f"idn-{n}")
        assert notification_client.post("/v1/notifications", json=request).status_code == 202
