"""A sign-in fact in over HTTP or AMQP, out as exactly one alert email at a SendGrid-compatible
server: duplicates, the rate limit, retries on schedule, dead letters, replay, poison messages."""

import json
import uuid

from shared.topology import SEND_SIGNIN_ALERT
from tests.e2e.conftest import LIMIT_PER_HOUR
from tests.support.events import publish_json, publish_to_auth_events, signed_in_event
from tests.support.metrics import metric_value
from tests.support.waiting import wait_until


def mails_for(sendgrid, job_id):
    return [mail for mail in sendgrid.mails if mail.custom_args.get("herald_job_id") == job_id]


def attempt_gaps(attempts) -> list[float]:
    return [later.at_monotonic - earlier.at_monotonic for earlier, later in zip(attempts, attempts[1:])]


def test_an_event_over_http_becomes_one_mongolian_email(client, sendgrid, herald):
    event = signed_in_event(user_id=f"u-{uuid.uuid4()}")
    response = client.post_event(event, **{"X-Correlation-ID": "corr-e2e-http"})

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["event_id"] == event["event_id"] and body["status"] == "enqueued"
    job = client.wait_for_job(body["job_id"], "completed")
    assert (job["type"], job["attempts"], job["max_attempts"]) == ("signin_alert", 1, 5)

    [mail] = mails_for(sendgrid, body["job_id"])
    assert mail.to_addresses == ["bat@example.mn"]
    assert mail.subject == "🔐 Таны бүртгэлд нэвтэрсэн байна - Herald"
    text = mail.content("text/plain")
    for expected in ("Сайн байна уу, Бат!", "GitHub", "203.0.113.7", "Chrome", "macOS", "16:15", "Herald баг"):
        assert expected in text
    assert "203.0.113.7" in mail.content("text/html")

    logs = herald.logs()
    assert "corr-e2e-http" in logs, "the correlation id follows the event into notifier's logs"
    assert "bat@example.mn" not in logs and "203.0.113.7" not in logs, "logs hold no raw email or IP"


def test_an_event_over_amqp_becomes_one_english_email(client, sendgrid, herald):
    event = signed_in_event(user_id=f"u-{uuid.uuid4()}", locale="en", email="dorj@example.com", name="Dorj")
    publish_to_auth_events(herald.env["AMQP_URL"], event)

    job_id = SEND_SIGNIN_ALERT.job_id_for(event["event_id"])
    client.wait_for_job(job_id, "completed")
    [mail] = sendgrid.wait_for_mail(lambda m: m.custom_args.get("herald_job_id") == job_id)
    assert mail.subject == "🔐 New sign-in to your Herald account"
    assert "Hello, Dorj!" in mail.content("text/plain")


def test_the_same_event_by_both_paths_and_again_is_one_job_and_one_email(client, sendgrid, herald):
    event = signed_in_event(user_id=f"u-{uuid.uuid4()}")
    first = client.post_event(event)
    publish_to_auth_events(herald.env["AMQP_URL"], event)
    publish_to_auth_events(herald.env["AMQP_URL"], event)
    again = client.post_event(event)

    assert first.status_code == 202
    # A duplicate answers the job's status at that moment: it may already be running or done.
    assert again.status_code == 200 and again.json() == {**first.json(), "status": again.json()["status"], "duplicate": True}
    job_id = first.json()["job_id"]
    job = client.wait_for_job(job_id, "completed")
    assert client.post_event(event).json()["status"] == "completed"
    found = client.http.get(
        f"{herald.notifier}/v1/jobs", params={"event_id": event["event_id"]}, headers={"X-API-Key": "e2e-ingress-key"}
    ).json()
    assert found["items"] == [job]
    # The ingress queue is consumed in order: once an event published after the copies has its
    # email, every copy has been handled.
    marker = signed_in_event(user_id=f"u-{uuid.uuid4()}")
    publish_to_auth_events(herald.env["AMQP_URL"], marker)
    client.wait_for_job(SEND_SIGNIN_ALERT.job_id_for(marker["event_id"]), "completed")
    assert len(mails_for(sendgrid, job_id)) == 1


def test_over_the_hourly_limit_alerts_are_skipped_as_rate_limited(client, sendgrid):
    user_id = f"u-{uuid.uuid4()}"
    job_ids = [client.post_event(signed_in_event(user_id=user_id)).json()["job_id"] for _ in range(LIMIT_PER_HOUR + 2)]

    finished = [
        wait_until(lambda j=job_id: client.job(j).get("status") in ("completed", "skipped") and client.job(j))
        for job_id in job_ids
    ]
    assert sorted(job["status"] for job in finished) == ["completed"] * LIMIT_PER_HOUR + ["skipped"] * 2
    assert {job["reason"] for job in finished if job["status"] == "skipped"} == {"rate_limited"}
    assert sum(len(mails_for(sendgrid, job_id)) for job_id in job_ids) == LIMIT_PER_HOUR


def test_transient_failures_are_retried_after_2_then_4_seconds(client, sendgrid):
    sendgrid.fail_next(503, times=2)
    before = len(sendgrid.attempts)
    job_id = client.post_event(signed_in_event(user_id=f"u-{uuid.uuid4()}")).json()["job_id"]

    job = client.wait_for_job(job_id, "completed", timeout=20)
    assert job["attempts"] == 3 and "503" in job["last_error"]
    attempts = sendgrid.attempts[before:]
    assert [a.status for a in attempts] == [503, 503, 202]
    gaps = attempt_gaps(attempts)
    assert 2.0 <= gaps[0] < 3.0 and 4.0 <= gaps[1] < 5.0, gaps


def test_a_429_waits_at_least_its_retry_after(client, sendgrid):
    sendgrid.fail_next(429, retry_after=3)
    before = len(sendgrid.attempts)
    job_id = client.post_event(signed_in_event(user_id=f"u-{uuid.uuid4()}")).json()["job_id"]

    client.wait_for_job(job_id, "completed", timeout=15)
    [gap] = attempt_gaps(sendgrid.attempts[before:])
    assert 3.0 <= gap < 4.0, gap


def test_a_job_waiting_for_its_retry_can_be_cancelled_and_is_not_run_again(client, sendgrid, herald):
    def skipped_attempts() -> float:
        exposition = client.http.get(f"{herald.notifier}/metrics").text
        try:
            return metric_value(exposition, "herald_job_attempts_total", actor="send_signin_alert", outcome="skipped")
        except AssertionError:
            return 0.0

    sendgrid.fail_next(429, retry_after=5)
    skipped_before = skipped_attempts()
    job_id = client.post_event(signed_in_event(user_id=f"u-{uuid.uuid4()}")).json()["job_id"]
    client.wait_for_job(job_id, "retrying")

    cancelled = client.admin("POST", f"/v1/admin/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    # The retry comes back after Retry-After and is skipped, not sent.
    wait_until(lambda: skipped_attempts() > skipped_before, timeout=15, what="the cancelled job's retry to be skipped")
    job = client.job(job_id)
    assert (job["status"], job["attempts"]) == ("cancelled", 1)
    assert mails_for(sendgrid, job_id) == []

    listed = client.admin("GET", "/v1/admin/jobs?status=cancelled").json()
    assert job_id in [item["job_id"] for item in listed["items"]]
    too_late = client.admin("POST", f"/v1/admin/jobs/{job_id}/cancel")
    assert too_late.status_code == 200, "cancelling twice is harmless"
    done = client.post_event(signed_in_event(user_id=f"u-{uuid.uuid4()}")).json()["job_id"]
    client.wait_for_job(done, "completed")
    conflict = client.admin("POST", f"/v1/admin/jobs/{done}/cancel")
    assert conflict.status_code == 409 and "completed" in conflict.json()["title"]
    assert client.admin("POST", "/v1/admin/jobs/no-such-job/cancel").status_code == 404


def test_a_permanent_error_is_dead_at_once_and_can_be_replayed(client, sendgrid):
    sendgrid.fail_next(400)
    job_id = client.post_event(signed_in_event(user_id=f"u-{uuid.uuid4()}")).json()["job_id"]

    job = client.wait_for_job(job_id, "dead")
    assert (job["attempts"], job["reason"]) == (1, "permanent_error")
    item = wait_until(
        lambda: next((i for i in client.dead_letters()["items"] if i["job_id"] == job_id), None),
        what="the dead letter to be archived",
    )
    assert item["type"] == "signin_alert" and item["reason"] == "permanent_error" and "400" in item["last_error"]

    replayed = client.admin("POST", f"/v1/admin/dlq/{item['id']}/replay")
    assert replayed.status_code == 202, replayed.text
    job = client.wait_for_job(job_id, "completed")
    assert job["attempts"] == 1, "a replay starts the retry count over"
    assert len(mails_for(sendgrid, job_id)) == 1
    assert all(i["job_id"] != job_id for i in client.dead_letters()["items"])


def test_retries_run_out_after_five_attempts_on_schedule_and_the_job_is_dead(client, sendgrid):
    sendgrid.fail_next(500, times=5)
    before = len(sendgrid.attempts)
    job_id = client.post_event(signed_in_event(user_id=f"u-{uuid.uuid4()}")).json()["job_id"]

    job = client.wait_for_job(job_id, "dead", timeout=45)
    assert (job["attempts"], job["reason"]) == (5, "retries_exhausted")
    gaps = attempt_gaps(sendgrid.attempts[before:])
    assert len(gaps) == 4
    for gap, scheduled in zip(gaps, (2, 4, 8, 16)):
        assert scheduled <= gap < scheduled + 1.0, gaps
    item = wait_until(lambda: next((i for i in client.dead_letters()["items"] if i["job_id"] == job_id), None))
    assert (item["reason"], item["attempts"]) == ("retries_exhausted", 5)

    purged = client.admin("DELETE", f"/v1/admin/dlq/{item['id']}")
    assert purged.status_code == 200
    assert all(i["job_id"] != job_id for i in client.dead_letters()["items"])


def test_poison_messages_are_dead_lettered_with_a_reason_and_the_consumer_goes_on(client, sendgrid, herald):
    amqp_url = herald.env["AMQP_URL"]
    publish_to_auth_events(amqp_url, b"{not json", correlation_id="poison-1")
    invalid = signed_in_event()
    del invalid["user"]["email"]
    publish_to_auth_events(amqp_url, invalid, correlation_id="poison-2")

    def archived():
        items = {i["correlation_id"]: i for i in client.dead_letters()["items"]}
        return items if {"poison-1", "poison-2"} <= items.keys() else None

    items = wait_until(archived, what="both poison messages in the archive")
    assert items["poison-1"]["reason"] == "undecodable"
    assert items["poison-2"]["reason"] == "invalid_event" and "email" in items["poison-2"]["last_error"]
    assert items["poison-1"]["queue"] == "auth_events.ingress"

    valid = signed_in_event(user_id=f"u-{uuid.uuid4()}")
    publish_to_auth_events(amqp_url, valid)
    client.wait_for_job(SEND_SIGNIN_ALERT.job_id_for(valid["event_id"]), "completed")


def test_http_errors_are_problem_json(client, herald):
    bad = signed_in_event()
    bad["user"]["locale"] = "fr"
    bad["unexpected"] = True
    invalid = client.post_event(bad)
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    locations = {tuple(e["loc"]) for e in invalid.json()["errors"]}
    assert ("user", "locale") in locations and ("unexpected",) in locations

    assert client.post_event(signed_in_event(), api_key="wrong").status_code == 401
    assert client.post_event(signed_in_event(), api_key=None).status_code == 401
    too_big = client.http.post(
        f"{herald.auth_events}/v1/events",
        content=json.dumps({"padding": "x" * 70_000}),
        headers={"X-API-Key": "e2e-ingress-key", "content-type": "application/json"},
    )
    assert too_big.status_code == 413 and too_big.headers["content-type"] == "application/problem+json"

    assert client.admin("GET", "/v1/admin/dlq", token=None).status_code == 401
    assert client.admin("GET", "/v1/admin/dlq", token="wrong").status_code == 401
    assert client.http.get(f"{herald.notifier}/v1/jobs/no-such-job").status_code == 401, "a job's status needs the key"
    missing = client.http.get(f"{herald.notifier}/v1/jobs/no-such-job", headers={"X-API-Key": "e2e-ingress-key"})
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_every_service_reports_health_and_readiness(client, herald):
    for port in ("AUTH_EVENTS_PORT", "NOTIFIER_PORT", "SCHEDULER_PORT"):
        assert client.http.get(f"{herald.url(port)}/healthz").json() == {"status": "ok"}
        ready = client.http.get(f"{herald.url(port)}/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["database"] == "up"


def test_a_message_dramatiq_cannot_decode_is_archived_as_undecodable(client, herald):
    publish_json(herald.env["AMQP_URL"], "", "notifier.critical", b"\x00 not a dramatiq message", correlation_id="garbage-1")

    item = wait_until(
        lambda: next((i for i in client.dead_letters()["items"] if i["correlation_id"] == "garbage-1"), None),
        what="the undecodable message in the archive",
    )
    assert (item["reason"], item["queue"], item["job_id"]) == ("undecodable", "notifier.critical", None)


def test_metrics_count_events_attempts_and_ledger_states(client, herald):
    job_id = client.post_event(signed_in_event(user_id=f"u-{uuid.uuid4()}")).json()["job_id"]
    client.wait_for_job(job_id, "completed")

    ingress = client.http.get(f"{herald.auth_events}/metrics").text
    assert metric_value(ingress, "herald_events_received_total", event_type="auth.user.signed_in", via="http", outcome="accepted") >= 1
    notifier = client.http.get(f"{herald.notifier}/metrics").text
    assert metric_value(notifier, "herald_job_attempts_total", actor="send_signin_alert", outcome="completed") >= 1
    assert metric_value(notifier, "herald_job_duration_seconds_count", actor="send_signin_alert") >= 1
    assert metric_value(notifier, "herald_jobs", status="completed") >= 1
    assert metric_value(notifier, "herald_dead_letters") == client.dead_letters()["count"]
