"""notifier's notification routes over HTTP, on each database Herald supports.

The broker is not the point here: a recording publisher stands in for it (and refuses, to show
the 503). ``test_notification_delivery.py`` runs the same path on the real RabbitMQ.
"""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.notifier.notifications.handlers import deliver_notification
from services.notifier.notifications.routes import NotificationApiDeps, notification_routers
from shared.jobs.ledger import JobStatus
from shared.topology import DELIVER_NOTIFICATION
from shared.web.problems import PROBLEM_JSON, install_problem_handlers
from tests.fakes.clock import FakeClock
from tests.support.events import notification_requested
from tests.support.notifier_deps import notifier_deps, start_delivery

API_KEY = "test-key"
KEY = {"X-API-Key": API_KEY}


def request_body(n: int = 1, **fields) -> dict:
    mention = {
        "template": "comment_mention",
        "data": {"author": "Сараа", "snippet": f"сэтгэгдэл {n}", "url": "https://app.example.mn/c/1"},
        "channels": ["in_app"],
    }
    return notification_requested(event_id=f"event-{n}", **{**mention, **fields})


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def deps(session_factory, clock):
    return notifier_deps(session_factory, clock).notifications


@pytest.fixture
def client(deps):
    app = FastAPI()
    install_problem_handlers(app)
    for router in notification_routers(
        NotificationApiDeps(handler_deps=deps, api_keys=[API_KEY], max_event_bytes=64 * 1024, count=lambda *_: None)
    ):
        app.include_router(router)
    with TestClient(app) as client:
        yield client


def post_and_deliver(client, deps, clock, n: int, **fields) -> str:
    """Request a notification, then run its delivery as a worker would; its id."""
    answer = client.post("/v1/notifications", json=request_body(n, **fields), headers=KEY)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]
    deliver_notification(start_delivery(deps, job_id), deps)
    clock.advance(seconds=1)
    return job_id


# -- POST /v1/notifications --


def test_a_request_is_accepted_and_enqueued_on_its_priority_queue(client, deps):
    answer = client.post("/v1/notifications", json=request_body(priority="high"), headers=KEY)

    assert answer.status_code == 202
    body = answer.json()
    assert body == {"event_id": "event-1", "job_id": body["job_id"], "status": "enqueued"}
    [message] = deps.intake.publisher.sent
    assert message.route == DELIVER_NOTIFICATION["high"]
    assert deps.ledger.get(body["job_id"]).status == JobStatus.ENQUEUED
    assert client.get("/v1/users/u-1/notifications", headers=KEY).json()["count"] == 0, "not shown before delivery"


def test_the_same_event_again_answers_200_with_the_original_job(client, deps):
    first = client.post("/v1/notifications", json=request_body(), headers=KEY).json()
    again = client.post("/v1/notifications", json=request_body(priority="low"), headers=KEY)
    assert again.status_code == 200
    assert again.json() == {**first, "duplicate": True}
    assert len(deps.intake.publisher.sent) == 1


def test_an_invalid_request_is_422_problem_json(client):
    answer = client.post("/v1/notifications", json=request_body(channels=["sms"]), headers=KEY)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json()["errors"][0]["loc"][0] == "channels"


def test_email_without_an_address_is_422(client):
    body = request_body(channels=["email"], recipient={"user_id": "u-1", "name": "Бат"})
    assert client.post("/v1/notifications", json=body, headers=KEY).status_code == 422


def test_an_unknown_template_is_422_with_the_reason_and_nothing_is_recorded(client, deps):
    answer = client.post("/v1/notifications", json=request_body(template="welcome"), headers=KEY)
    assert answer.status_code == 422
    assert "unknown template 'welcome'" in answer.json()["detail"]
    assert deps.intake.publisher.sent == []
    assert deps.ledger.get(DELIVER_NOTIFICATION["normal"].job_id_for("event-1")) is None


def test_data_the_template_cannot_render_is_422(client):
    answer = client.post("/v1/notifications", json=request_body(data={"author": "A"}), headers=KEY)
    assert answer.status_code == 422
    assert "is undefined" in answer.json()["detail"]


def test_a_missing_api_key_is_401(client):
    assert client.post("/v1/notifications", json=request_body()).status_code == 401


def test_a_broker_that_cannot_confirm_is_503_and_nothing_is_recorded(client, deps):
    deps.intake.publisher.refusing = True
    answer = client.post("/v1/notifications", json=request_body(), headers=KEY)
    assert answer.status_code == 503 and answer.headers["retry-after"]
    assert deps.ledger.get(DELIVER_NOTIFICATION["normal"].job_id_for("event-1")) is None


# -- preferences --


def test_preferences_default_to_everything(client):
    answer = client.get("/v1/users/u-9/preferences", headers=KEY)
    assert answer.status_code == 200
    assert answer.json() == {"user_id": "u-9", "muted": False, "opt_outs": []}


def test_preferences_are_stored_and_replaced(client):
    wanted = {"muted": True, "opt_outs": [{"category": "comments", "channel": "email"}]}
    assert client.put("/v1/users/u-1/preferences", json=wanted, headers=KEY).json() == {"user_id": "u-1", **wanted}
    assert client.get("/v1/users/u-1/preferences", headers=KEY).json() == {"user_id": "u-1", **wanted}

    client.put("/v1/users/u-1/preferences", json={"muted": False, "opt_outs": []}, headers=KEY)
    assert client.get("/v1/users/u-1/preferences", headers=KEY).json() == {"user_id": "u-1", "muted": False, "opt_outs": []}


@pytest.mark.parametrize(
    "body",
    [
        {"muted": False, "opt_outs": [{"category": "security", "channel": "email"}]},
        {"muted": False, "opt_outs": [{"category": "comments", "channel": "sms"}]},
        {"muted": False, "opt_outs": [{"category": "Not A Category", "channel": "email"}]},
        {"muted": "sometimes"},
        {"muted": False, "typo": 1},
    ],
)
def test_invalid_preferences_are_422_and_change_nothing(client, body):
    answer = client.put("/v1/users/u-1/preferences", json=body, headers=KEY)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert client.get("/v1/users/u-1/preferences", headers=KEY).json()["opt_outs"] == []


def test_opting_out_of_security_says_why(client):
    body = {"muted": False, "opt_outs": [{"category": "security", "channel": "in_app"}]}
    errors = client.put("/v1/users/u-1/preferences", json=body, headers=KEY).json()["errors"]
    assert "cannot be opted out of" in errors[0]["msg"]


def test_user_routes_need_the_api_key(client):
    assert client.get("/v1/users/u-1/preferences").status_code == 401
    assert client.get("/v1/users/u-1/notifications", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.post("/v1/users/u-1/notifications/read-all").status_code == 401


# -- the in-app inbox --


def test_the_inbox_lists_in_app_notifications_newest_first(client, deps, clock):
    first = post_and_deliver(client, deps, clock, 1)
    second = post_and_deliver(client, deps, clock, 2)
    post_and_deliver(client, deps, clock, 3, channels=["email"])  # email only: not in the inbox
    post_and_deliver(client, deps, clock, 4, recipient={"user_id": "u-2", "name": "Дорж"})

    page = client.get("/v1/users/u-1/notifications", headers=KEY).json()

    assert (page["count"], page["unread_count"]) == (2, 2)
    assert [item["id"] for item in page["items"]] == [second, first]
    item = page["items"][0]
    assert item["title"] == "Сараа таныг сэтгэгдэлдээ дурдлаа"
    assert item["body"].endswith("“сэтгэгдэл 2”")
    assert item["category"] == "comments" and item["priority"] == "normal"
    assert item["data"]["url"] == "https://app.example.mn/c/1"
    assert item["read_at"] is None and item["created_at"]


def test_the_inbox_pages_and_filters_unread(client, deps, clock):
    ids = [post_and_deliver(client, deps, clock, n) for n in range(5)]
    newest_first = list(reversed(ids))

    page = client.get("/v1/users/u-1/notifications?limit=2&offset=2", headers=KEY).json()
    assert page["count"] == 5
    assert [item["id"] for item in page["items"]] == newest_first[2:4]

    assert client.post(f"/v1/users/u-1/notifications/{ids[0]}/read", headers=KEY).status_code == 200
    unread = client.get("/v1/users/u-1/notifications?unread=true", headers=KEY).json()
    assert (unread["count"], unread["unread_count"]) == (4, 4)
    assert ids[0] not in [item["id"] for item in unread["items"]]
    everything = client.get("/v1/users/u-1/notifications", headers=KEY).json()
    assert (everything["count"], everything["unread_count"]) == (5, 4)


def test_marking_read_is_idempotent_and_keeps_the_first_read_time(client, deps, clock):
    job_id = post_and_deliver(client, deps, clock, 1)
    first = client.post(f"/v1/users/u-1/notifications/{job_id}/read", headers=KEY).json()
    clock.advance(hours=1)
    again = client.post(f"/v1/users/u-1/notifications/{job_id}/read", headers=KEY).json()
    assert first == again and first["id"] == job_id
    [item] = client.get("/v1/users/u-1/notifications", headers=KEY).json()["items"]
    assert item["read_at"] == first["read_at"]


def test_marking_another_users_or_an_unknown_notification_is_404(client, deps, clock):
    job_id = post_and_deliver(client, deps, clock, 1)
    for path in (f"/v1/users/u-2/notifications/{job_id}/read", "/v1/users/u-1/notifications/nope/read"):
        answer = client.post(path, headers=KEY)
        assert answer.status_code == 404
        assert answer.headers["content-type"] == PROBLEM_JSON
    assert client.get("/v1/users/u-1/notifications?unread=true", headers=KEY).json()["count"] == 1


def test_read_all_marks_only_that_users_notifications(client, deps, clock):
    for n in range(3):
        post_and_deliver(client, deps, clock, n)
    post_and_deliver(client, deps, clock, 9, recipient={"user_id": "u-2", "name": "Дорж"})

    assert client.post("/v1/users/u-1/notifications/read-all", headers=KEY).json() == {"marked_read": 3}
    assert client.post("/v1/users/u-1/notifications/read-all", headers=KEY).json() == {"marked_read": 0}
    assert client.get("/v1/users/u-1/notifications", headers=KEY).json()["unread_count"] == 0
    assert client.get("/v1/users/u-2/notifications", headers=KEY).json()["unread_count"] == 1


def test_a_muted_users_inbox_stays_empty(client, deps, clock):
    client.put("/v1/users/u-1/preferences", json={"muted": True, "opt_outs": []}, headers=KEY)
    job_id = post_and_deliver(client, deps, clock, 1)
    assert client.get("/v1/users/u-1/notifications", headers=KEY).json()["count"] == 0
    assert deps.ledger.get(job_id).reason == "muted"


def test_inbox_limits_are_validated(client):
    assert client.get("/v1/users/u-1/notifications?limit=0", headers=KEY).status_code == 422
    assert client.get("/v1/users/u-1/notifications?limit=101", headers=KEY).status_code == 422
    assert client.get("/v1/users/u-1/notifications?offset=-1", headers=KEY).status_code == 422
