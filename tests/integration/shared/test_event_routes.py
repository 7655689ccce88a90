"""The event routes of auth_events and notifier, and notifier's job lookups, over HTTP on each
database Herald supports: what a duplicate answers, finding a job by event id, and what /docs
says about the bodies. A recording publisher stands in for the broker."""

import json

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from services.auth_events.api import EXAMPLE_EVENT, AuthEventsApiDeps
from services.auth_events.api import build_app as build_auth_events_app
from services.auth_events.bootstrap import build_handler_deps as build_auth_events_deps
from services.notifier.notifications.routes import EXAMPLE_REQUEST
from shared.db import unit_of_work
from shared.jobs.dead_letters import DeadLetter
from shared.jobs.intake import JobIntake
from shared.jobs.ledger import JobLedger
from shared.schemas import NotificationRequestedV1, UserSignedInV1
from shared.topology import DELIVER_NOTIFICATION, RUN_MAINTENANCE, SEND_SIGNIN_ALERT
from shared.web.problems import PROBLEM_JSON
from tests.fakes.clock import FakeClock
from tests.fakes.publisher import RecordingPublisher
from tests.support.notifier_deps import notifier_app

MAX_EVENT_BYTES = 64 * 1024


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def ledger(session_factory, clock):
    return JobLedger(session_factory, clock)


@pytest.fixture
def auth_events(session_factory, clock, ledger):
    deps = build_auth_events_deps(intake=JobIntake(session_factory, ledger, RecordingPublisher()), clock=clock)
    app = build_auth_events_app(
        AuthEventsApiDeps(
            handler_deps=deps,
            api_keys=[],
            max_event_bytes=MAX_EVENT_BYTES,
            readiness_checks={},
            count=lambda *_: None,
            metrics_registry=CollectorRegistry(),
        )
    )
    with TestClient(app) as client:
        yield client


@pytest.fixture
def notifier(session_factory, clock, ledger):
    app = notifier_app(session_factory, clock, api_keys=[])
    with TestClient(app) as client:
        yield client


def finish(ledger: JobLedger, job_id: str) -> None:
    """Run the job's attempt to its end, as the worker's ledger middleware would."""
    ledger.start_attempt(job_id, job_type="any", max_attempts=5, correlation_id=None)
    ledger.complete(job_id)


# -- a duplicate answers the job's status now --


def test_a_duplicate_event_answers_the_status_its_job_has_now(auth_events, ledger):
    first = auth_events.post("/v1/events", json=EXAMPLE_EVENT)
    assert first.status_code == 202 and first.json()["status"] == "enqueued"
    job_id = first.json()["job_id"]

    assert auth_events.post("/v1/events", json=EXAMPLE_EVENT).json()["status"] == "enqueued"
    finish(ledger, job_id)
    again = auth_events.post("/v1/events", json=EXAMPLE_EVENT)

    assert again.status_code == 200
    assert again.json() == {"event_id": EXAMPLE_EVENT["event_id"], "job_id": job_id, "status": "completed", "duplicate": True}


def test_a_duplicate_notification_request_answers_the_status_its_job_has_now(notifier, ledger):
    job_id = notifier.post("/v1/notifications", json=EXAMPLE_REQUEST).json()["job_id"]
    ledger.cancel(job_id)

    again = notifier.post("/v1/notifications", json=EXAMPLE_REQUEST)

    assert (again.status_code, again.json()["job_id"], again.json()["status"], again.json()["duplicate"]) == (
        200,
        job_id,
        "cancelled",
        True,
    )


# -- GET /v1/jobs?event_id= --


def test_a_job_is_found_by_its_event_id(notifier, ledger):
    job_id = notifier.post("/v1/notifications", json=EXAMPLE_REQUEST).json()["job_id"]
    finish(ledger, job_id)

    found = notifier.get("/v1/jobs", params={"event_id": EXAMPLE_REQUEST["event_id"]})

    assert found.status_code == 200
    body = found.json()
    assert (body["event_id"], body["count"]) == (EXAMPLE_REQUEST["event_id"], 1)
    [job] = body["items"]
    assert (job["job_id"], job["type"], job["status"]) == (job_id, "notification", "completed")
    assert job == notifier.get(f"/v1/jobs/{job_id}").json()


def test_a_jobs_answer_is_every_field_in_order_with_its_times_as_isoformat(notifier, ledger, clock):
    job_id = notifier.post("/v1/notifications", json=EXAMPLE_REQUEST).json()["job_id"]
    clock.advance(seconds=1.5)
    finish(ledger, job_id)
    job = ledger.get(job_id)

    answer = notifier.get(f"/v1/jobs/{job_id}")

    assert answer.text == json.dumps(
        {
            "job_id": job_id,
            "type": "notification",
            "status": "completed",
            "attempts": 1,
            "max_attempts": 5,
            "last_error": None,
            "reason": None,
            "created_at": job.created_at.isoformat(),
            "updated_at": job.updated_at.isoformat(),
            "finished_at": job.finished_at.isoformat(),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert answer.json()["finished_at"].endswith(".500000+00:00")


def test_a_dead_letters_answer_is_every_field_in_order_with_its_time_as_isoformat(notifier, session_factory, clock):
    with unit_of_work(session_factory) as session:
        session.add(
            DeadLetter(
                delivery_key="d-1", queue_name="notifier.critical", reason="permanent_error", attempts=2,
                job_id="j-1", type="notification", last_error="boom", body=b"{}", headers={}, dead_at=clock.now(),
            )
        )

    listed = notifier.get("/v1/admin/dlq")

    [item] = listed.json()["items"]
    assert listed.json()["count"] == 1
    assert item == {
        "id": item["id"], "job_id": "j-1", "type": "notification", "queue": "notifier.critical",
        "reason": "permanent_error", "last_error": "boom", "attempts": 2, "correlation_id": None,
        "dead_at": clock.now().isoformat(),
    }
    assert list(item) == ["id", "job_id", "type", "queue", "reason", "last_error", "attempts", "correlation_id", "dead_at"]
    replayed = notifier.post(f"/v1/admin/dlq/{item['id']}/replay")
    assert (replayed.status_code, replayed.json()) == (
        202, {"id": item["id"], "job_id": "j-1", "queue": "notifier.critical", "status": "enqueued"}
    )
    assert notifier.delete("/v1/admin/dlq").json() == {"purged": 0}


def test_the_lookup_finds_every_kind_of_job_the_event_id_names(notifier, ledger, session_factory):
    """The same id used by a sign-in event and a maintenance run is two jobs: both are listed."""
    event_id = "shared-id"
    with unit_of_work(session_factory) as session:
        ledger.accept_many(
            session,
            [
                ledger.new_job(route.job_id_for(event_id), route.job_type, 5, None, None)
                for route in (SEND_SIGNIN_ALERT, RUN_MAINTENANCE)
            ],
        )

    body = notifier.get("/v1/jobs", params={"event_id": event_id}).json()

    assert sorted(job["type"] for job in body["items"]) == ["maintenance", "signin_alert"]


def test_an_unknown_event_id_finds_no_job(notifier):
    assert notifier.get("/v1/jobs", params={"event_id": "never-sent"}).json() == {
        "event_id": "never-sent",
        "count": 0,
        "items": [],
    }


@pytest.mark.parametrize("query", [{}, {"event_id": ""}, {"event_id": "x" * 129}])
def test_the_lookup_without_a_usable_event_id_is_422(notifier, query):
    answer = notifier.get("/v1/jobs", params=query)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_JSON


def test_the_job_id_is_derived_from_the_event_id_per_job_type(notifier):
    job_id = notifier.post("/v1/notifications", json={**EXAMPLE_REQUEST, "priority": "low"}).json()["job_id"]
    assert job_id == DELIVER_NOTIFICATION["normal"].job_id_for(EXAMPLE_REQUEST["event_id"]), "one id for every priority"


# -- /docs --


def test_the_docs_show_the_event_body_and_its_example_is_a_valid_event(auth_events):
    assert_documented_body(auth_events, "/v1/events", UserSignedInV1)


def test_the_docs_show_the_notification_body_and_its_example_is_a_valid_request(notifier):
    assert_documented_body(notifier, "/v1/notifications", NotificationRequestedV1)


def assert_documented_body(client, path, model):
    assert client.get("/docs").status_code == 200
    operation = client.get("/openapi.json").json()["paths"][path]["post"]

    body = operation["requestBody"]["content"]["application/json"]
    assert body["schema"]["required"] == model.model_json_schema()["required"]
    assert "$ref" not in str(body["schema"]), "the schema stands alone"
    assert set(operation["responses"]) >= {"202", "200", "401", "413", "422", "503"}
    assert {parameter["name"] for parameter in operation["parameters"]} == {"X-API-Key", "X-Correlation-ID"}
    model.model_validate(body["example"])
    assert client.post(path, json=body["example"]).status_code == 202, "Try it out sends an event"


def test_the_route_still_reads_the_body_itself(auth_events):
    """Declaring the body for the docs changed none of the answers."""
    invalid = auth_events.post("/v1/events", json={**EXAMPLE_EVENT, "version": 2})
    assert invalid.status_code == 422 and invalid.headers["content-type"] == PROBLEM_JSON
    assert invalid.json()["errors"][0]["loc"] == ["version"]

    not_json = auth_events.post("/v1/events", content=b"not json", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422 and not_json.headers["content-type"] == PROBLEM_JSON

    too_large = auth_events.post("/v1/events", content=b"x" * (MAX_EVENT_BYTES + 1))
    assert too_large.status_code == 413 and too_large.headers["content-type"] == PROBLEM_JSON


def test_a_jobs_status_needs_an_ingress_key_when_keys_are_set(session_factory):
    clock = FakeClock()
    app = notifier_app(session_factory, clock, api_keys=["the-key"])
    with TestClient(app) as client:
        for url in ("/v1/jobs/no-such-job", "/v1/jobs?event_id=e-1"):
            assert client.get(url).status_code == 401
            assert client.get(url, headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.get("/v1/jobs/no-such-job", headers={"X-API-Key": "the-key"}).status_code == 404
        assert client.get("/v1/jobs?event_id=e-1", headers={"X-API-Key": "the-key"}).json()["count"] == 0
