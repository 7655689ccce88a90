"""Notification requests, digests and maintenance through ``herald up``: HTTP and AMQP in, email
out at the SendGrid-compatible server, the in-app inbox, preferences, a digest schedule coming
due, and the scheduler's maintenance events done by notifier.

The scheduler runs on real time here, so the digest schedule is set for the coming minute and the
maintenance crons fire every minute: the slow part of this module is one wait of under 90 s.
"""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from shared.topology import NOTIFICATION_REQUESTED_KEY, NOTIFICATIONS_EXCHANGE
from tests.e2e.conftest import ADMIN_TOKEN, INGRESS_KEY
from tests.support.events import notification_requested, publish_json
from tests.support.metrics import metric_value
from tests.support.waiting import wait_until

KEYED = {"X-API-Key": INGRESS_KEY}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
EVERY_MINUTE = "* * * * *"


@pytest.fixture(scope="module")
def extra_herald_env():
    return {
        "DIGEST_SCAN_INTERVAL_S": "1",
        "ROLLUP_HOURLY_CRON": EVERY_MINUTE,
        "DEAD_LETTER_WATCHDOG_CRON": EVERY_MINUTE,
        "RETENTION_CRON": EVERY_MINUTE,
    }


def notification(user_id: str, **fields) -> dict:
    defaults = {
        "occurred_at": "2026-11-24T08:00:00Z",
        "data": {"title": "Шинэ сэтгэгдэл", "body": "Таны нийтлэлд сэтгэгдэл ирлээ"},
    }
    return notification_requested(user_id=user_id, email=f"{user_id}@example.mn", **{**defaults, **fields})


def post_notification(client, body: dict):
    return client.http.post(f"{client.process.notifier}/v1/notifications", json=body, headers=KEYED)


def inbox(client, user_id: str, **params) -> dict:
    response = client.http.get(f"{client.process.notifier}/v1/users/{user_id}/notifications", params=params, headers=KEYED)
    assert response.status_code == 200, response.text
    return response.json()


def mails_to(sendgrid, address: str):
    return [mail for mail in sendgrid.mails if address in mail.to_addresses]


def test_a_notification_over_http_is_one_email_and_one_inbox_item(client, sendgrid):
    user_id = f"u-{uuid.uuid4().hex[:8]}"
    body = notification(user_id, priority="high")
    response = post_notification(client, body)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]

    job = client.wait_for_job(job_id, "completed")
    assert job["type"] == "notification"
    [mail] = sendgrid.wait_for_mail(lambda m: f"{user_id}@example.mn" in m.to_addresses)
    assert "Шинэ сэтгэгдэл" in mail.subject
    assert "Таны нийтлэлд сэтгэгдэл ирлээ" in mail.content("text/plain")

    again = post_notification(client, body)
    assert (again.status_code, again.json()["job_id"], again.json()["duplicate"]) == (200, job_id, True)

    items = inbox(client, user_id, unread="true")
    assert (items["unread_count"], [item["title"] for item in items["items"]]) == (1, ["Шинэ сэтгэгдэл"])
    item_id = items["items"][0]["id"]
    read = client.http.post(f"{client.process.notifier}/v1/users/{user_id}/notifications/{item_id}/read", headers=KEYED)
    assert read.status_code == 200, read.text
    assert inbox(client, user_id, unread="true")["count"] == 0
    assert len(mails_to(sendgrid, f"{user_id}@example.mn")) == 1


def test_a_notification_over_amqp_reaches_the_inbox_and_a_bad_one_is_dead_lettered(client, herald):
    user_id = f"u-{uuid.uuid4().hex[:8]}"
    good = notification(user_id, channels=["in_app"], priority="low")
    bad = notification(user_id, template="no_such_template")
    for body in (good, bad):
        publish_json(herald.env["AMQP_URL"], NOTIFICATIONS_EXCHANGE, NOTIFICATION_REQUESTED_KEY, body)

    wait_until(lambda: inbox(client, user_id)["count"] == 1, timeout=15, what="the AMQP notification in the inbox")
    dead = wait_until(
        lambda: [item for item in client.dead_letters()["items"] if item["queue"] == "notifier.requests"],
        timeout=15,
        what="the bad request in the dead-letter archive",
    )
    assert dead[0]["reason"] == "invalid_event" and "no_such_template" in dead[0]["last_error"]


def test_a_muted_user_gets_no_email_but_still_gets_security_notifications(client, sendgrid):
    user_id = f"u-{uuid.uuid4().hex[:8]}"
    muted = client.http.put(
        f"{client.process.notifier}/v1/users/{user_id}/preferences", json={"muted": True, "opt_outs": []}, headers=KEYED
    )
    assert muted.status_code == 200, muted.text

    skipped = post_notification(client, notification(user_id)).json()["job_id"]
    assert client.wait_for_job(skipped, "skipped")["reason"] == "muted"
    security = post_notification(client, notification(user_id, category="security")).json()["job_id"]
    client.wait_for_job(security, "completed")
    assert len(mails_to(sendgrid, f"{user_id}@example.mn")) == 1


def test_a_digest_schedule_comes_due_and_sends_one_digest_and_maintenance_runs_on_its_crons(client, sendgrid):
    user_id = f"u-{uuid.uuid4().hex[:8]}"
    titles = [f"Мэдэгдэл {n}" for n in range(3)]
    for title in titles:
        job_id = post_notification(
            client, notification(user_id, delivery="digest", channels=["email"], data={"title": title, "body": "…"})
        ).json()["job_id"]
        client.wait_for_job(job_id, "completed")
    assert mails_to(sendgrid, f"{user_id}@example.mn") == [], "digest notifications wait for the digest"

    # Due at the next whole minute that is at least 10 s away.
    due = (datetime.now(timezone.utc) + timedelta(seconds=70)).replace(second=0, microsecond=0)
    created = client.http.post(
        f"{client.process.scheduler}/v1/digest-schedules",
        headers=KEYED,
        json={
            "recipient": {"user_id": user_id, "email": f"{user_id}@example.mn", "name": "Бат", "locale": "mn"},
            "frequency": "daily",
            "delivery_time": due.strftime("%H:%M"),
            "timezone": "UTC",
            "max_items": 2,
        },
    )
    assert created.status_code == 201, created.text
    schedule = created.json()
    assert datetime.fromisoformat(schedule["next_run_at"]) == due

    [digest] = sendgrid.wait_for_mail(lambda m: f"{user_id}@example.mn" in m.to_addresses, timeout=100)
    text = digest.content("text/plain")
    assert "тойм" in digest.subject
    assert sum(title in text for title in titles) == 2, "capped at max_items"

    after = client.http.get(f"{client.process.scheduler}/v1/digest-schedules/{schedule['id']}", headers=KEYED).json()
    assert datetime.fromisoformat(after["next_run_at"]) == due + timedelta(days=1)
    assert after["last_sent_at"] is not None

    # The maintenance crons fired in the same minute; notifier recorded each run.
    def maintenance_tasks_run() -> set[str]:
        response = client.http.get(f"{client.process.notifier}/v1/admin/maintenance-runs", headers=ADMIN)
        assert response.status_code == 200, response.text
        return {run["task"] for run in response.json()["items"] if run["error"] is None}

    wait_until(
        lambda: maintenance_tasks_run() >= {"retention", "rollup", "dead_letter_watchdog"},
        timeout=70,
        what="a retention, rollup and watchdog run",
    )
    assert len(mails_to(sendgrid, f"{user_id}@example.mn")) == 1, "one digest per period"


def test_the_scheduler_lists_its_recurring_schedules_with_their_next_runs(client):
    response = client.http.get(f"{client.process.scheduler}/v1/schedules")
    assert response.status_code == 200, response.text
    schedules = {item["name"]: item for item in response.json()["items"]}
    assert schedules["dead-letter-watchdog"]["schedule"] == EVERY_MINUTE
    assert schedules["rollup-weekly"]["emits"] == "maintenance.rollup.due"
    assert all(item["next_run_at"] for item in schedules.values())

    exposition = client.http.get(f"{client.process.scheduler}/metrics").text
    assert metric_value(exposition, "herald_scheduled_runs_total", outcome="ok", schedule="digest-scan") >= 1
    assert metric_value(exposition, "herald_digests_emitted_total") == 1, "the one digest of this module"
    assert metric_value(exposition, "herald_digest_schedules_active") == 1
