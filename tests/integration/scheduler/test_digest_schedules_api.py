"""/v1/digest-schedules through FastAPI's TestClient, on SQLite and PostgreSQL."""

from datetime import datetime, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.scheduler.digest_schedules.routes import build_digest_schedules_router
from shared.web.problems import install_problem_handlers
from tests.fakes.clock import FakeClock

API_KEY = "test-key"
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)  # a Tuesday


def build_client(session_factory, clock, api_keys) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(build_digest_schedules_router(session_factory=session_factory, clock=clock, api_keys=api_keys))
    return TestClient(app, headers={"X-API-Key": API_KEY} if api_keys else {})


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def client(session_factory, clock):
    return build_client(session_factory, clock, [API_KEY])


def schedule_body(**overrides) -> dict:
    body = {
        "recipient": {"user_id": "u-1", "email": "bat@example.mn", "name": "Бат", "locale": "mn"},
        "frequency": "daily",
        "delivery_time": "08:00",
        "timezone": "Asia/Ulaanbaatar",
    }
    return {**body, **overrides}


def test_creating_a_schedule_answers_it_with_its_next_run(client):
    response = client.post("/v1/digest-schedules", json=schedule_body())
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/digest-schedules/{created['id']}"
    assert created["recipient"] == {"user_id": "u-1", "email": "bat@example.mn", "name": "Бат", "locale": "mn"}
    assert created["frequency"] == "daily"
    assert created["delivery_day"] is None
    assert created["max_items"] == 20
    assert created["categories"] == []
    assert created["active"] is True
    # 08:00 in Ulaanbaatar (UTC+8) is 00:00 UTC; at 06:00 UTC today's has passed.
    assert created["next_run_at"] == "2026-11-25T00:00:00+00:00"
    assert created["last_sent_at"] is None
    assert created["created_at"] == created["updated_at"] == "2026-11-24T06:00:00+00:00"
    assert client.get(f"/v1/digest-schedules/{created['id']}").json() == created


def test_weekly_and_monthly_schedules_run_on_their_day(client):
    weekly = client.post(
        "/v1/digest-schedules",
        json=schedule_body(
            frequency="weekly", delivery_day=1, timezone="UTC", categories=["comments", "billing.invoices"]
        ),
    ).json()
    assert weekly["next_run_at"] == "2026-11-30T08:00:00+00:00"
    assert weekly["categories"] == ["comments", "billing.invoices"]
    monthly = client.post(
        "/v1/digest-schedules", json=schedule_body(frequency="monthly", delivery_day=31, timezone="UTC", max_items=5)
    ).json()
    assert monthly["next_run_at"] == "2026-11-30T08:00:00+00:00"  # November has 30 days
    assert monthly["max_items"] == 5


@pytest.mark.parametrize(
    "overrides",
    [
        {"delivery_time": "24:00"},
        {"delivery_time": "8:00"},
        {"timezone": "Mars/Olympus_Mons"},
        {"frequency": "hourly"},
        {"delivery_day": 3},  # daily takes no day
        {"frequency": "weekly"},  # weekly needs one
        {"frequency": "weekly", "delivery_day": 8},
        {"frequency": "monthly", "delivery_day": 0},
        {"frequency": "monthly", "delivery_day": 32},
        {"max_items": 0},
        {"max_items": 101},
        {"categories": ["Not A Category"]},
        {"recipient": {"user_id": "u-1", "email": "not-an-email"}},
        {"recipient": {"user_id": "u-1", "email": "bat@example.mn", "locale": "fr"}},
        {"surprise": True},
    ],
)
def test_an_invalid_schedule_is_a_422_problem(client, overrides):
    response = client.post("/v1/digest-schedules", json=schedule_body(**overrides))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"]
    assert client.get("/v1/digest-schedules").json()["count"] == 0


def test_an_unknown_id_is_a_404_problem(client):
    for method in ("get", "delete"):
        response = getattr(client, method)("/v1/digest-schedules/nope")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.patch("/v1/digest-schedules/nope", json={"max_items": 3}).status_code == 404


def test_patch_changes_fields_and_recomputes_the_next_run_from_now(client, clock):
    created = client.post("/v1/digest-schedules", json=schedule_body(timezone="UTC")).json()
    clock.advance(hours=3)  # 09:00 UTC, past today's 08:00
    response = client.patch(
        f"/v1/digest-schedules/{created['id']}",
        json={"delivery_time": "10:30", "recipient": {"email": "new@example.mn"}, "max_items": 50},
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["next_run_at"] == "2026-11-24T10:30:00+00:00"
    assert updated["recipient"] == {"user_id": "u-1", "email": "new@example.mn", "name": "Бат", "locale": "mn"}
    assert updated["max_items"] == 50
    assert updated["updated_at"] == "2026-11-24T09:00:00+00:00"
    assert updated["created_at"] == created["created_at"]


def test_patch_switching_frequency_must_keep_the_day_consistent(client):
    created = client.post("/v1/digest-schedules", json=schedule_body(timezone="UTC")).json()
    path = f"/v1/digest-schedules/{created['id']}"
    refused = client.patch(path, json={"frequency": "weekly"})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    weekly = client.patch(path, json={"frequency": "weekly", "delivery_day": 5}).json()
    assert weekly["next_run_at"] == "2026-11-27T08:00:00+00:00"
    assert client.patch(path, json={"frequency": "daily"}).status_code == 422
    daily = client.patch(path, json={"frequency": "daily", "delivery_day": None}).json()
    assert daily["delivery_day"] is None
    assert client.patch(path, json={"timezone": "Nowhere/Land"}).status_code == 422
    assert client.patch(path, json={"frequency": None}).status_code == 422
    assert client.patch(path, json={"unknown": 1}).status_code == 422


def test_deactivating_clears_the_next_run_and_reactivating_computes_it(client, clock):
    created = client.post("/v1/digest-schedules", json=schedule_body(timezone="UTC")).json()
    path = f"/v1/digest-schedules/{created['id']}"
    assert client.patch(path, json={"active": False}).json()["next_run_at"] is None
    clock.advance(days=2)
    reactivated = client.patch(path, json={"active": True}).json()
    assert reactivated["active"] is True
    assert reactivated["next_run_at"] == "2026-11-26T08:00:00+00:00"


def test_a_schedule_created_inactive_has_no_next_run(client):
    created = client.post("/v1/digest-schedules", json=schedule_body(active=False)).json()
    assert created["active"] is False
    assert created["next_run_at"] is None


def test_delete_removes_the_schedule(client):
    created = client.post("/v1/digest-schedules", json=schedule_body()).json()
    assert client.delete(f"/v1/digest-schedules/{created['id']}").status_code == 204
    assert client.get(f"/v1/digest-schedules/{created['id']}").status_code == 404
    assert client.delete(f"/v1/digest-schedules/{created['id']}").status_code == 404


def test_the_list_filters_by_recipient_frequency_and_active_and_pages(client, clock):
    ids = []
    for i in range(5):
        clock.advance(seconds=1)
        body = schedule_body(recipient={"user_id": "u-1", "email": "a@example.mn"})
        ids.append(client.post("/v1/digest-schedules", json=body).json()["id"])
    client.post(
        "/v1/digest-schedules",
        json=schedule_body(recipient={"user_id": "u-2", "email": "b@example.mn"}, frequency="weekly", delivery_day=2),
    )
    client.post(
        "/v1/digest-schedules",
        json=schedule_body(recipient={"user_id": "u-2", "email": "b@example.mn"}, active=False),
    )

    everything = client.get("/v1/digest-schedules").json()
    assert everything["count"] == 7 and len(everything["items"]) == 7

    first = client.get("/v1/digest-schedules", params={"user_id": "u-1", "limit": 2}).json()
    second = client.get("/v1/digest-schedules", params={"user_id": "u-1", "limit": 2, "offset": 2}).json()
    last = client.get("/v1/digest-schedules", params={"user_id": "u-1", "limit": 2, "offset": 4}).json()
    assert first["count"] == second["count"] == last["count"] == 5
    assert [item["id"] for item in first["items"] + second["items"] + last["items"]] == ids

    assert client.get("/v1/digest-schedules", params={"frequency": "weekly"}).json()["count"] == 1
    assert client.get("/v1/digest-schedules", params={"user_id": "u-2", "active": "false"}).json()["count"] == 1
    assert client.get("/v1/digest-schedules", params={"user_id": "u-2", "active": "true"}).json()["count"] == 1
    assert client.get("/v1/digest-schedules", params={"user_id": "nobody"}).json() == {"count": 0, "items": []}

    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"frequency": "hourly"}, {"active": "maybe"}):
        response = client.get("/v1/digest-schedules", params=bad)
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")


def test_every_route_needs_the_api_key_when_keys_are_configured(session_factory, clock):
    anonymous = build_client(session_factory, clock, [])
    anonymous.headers.clear()
    keyed = build_client(session_factory, clock, [API_KEY])
    created = keyed.post("/v1/digest-schedules", json=schedule_body()).json()

    locked = build_client(session_factory, clock, [API_KEY])
    locked.headers["X-API-Key"] = "wrong"
    path = f"/v1/digest-schedules/{created['id']}"
    for method, url, body in (
        ("POST", "/v1/digest-schedules", schedule_body()),
        ("GET", "/v1/digest-schedules", None),
        ("GET", path, None),
        ("PATCH", path, {"max_items": 3}),
        ("DELETE", path, None),
    ):
        response = locked.request(method, url, json=body)
        assert response.status_code == 401, (method, url)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"] == "X-API-Key"
    assert keyed.get(path).json()["max_items"] == 20

    # Without configured keys the routes are open.
    assert anonymous.get(path).status_code == 200
