"""Hostile notification requests published to the ``notifications`` exchange, on the real
RabbitMQ and each database: each is dead-lettered as ``invalid_event`` with the field and the
reason, the valid request among them is delivered, and an internationalized address reaches the
outbox."""

import json
from email.parser import Parser
from email.policy import default as default_policy

import pytest

from services.notifier.email.transports.outbox import OutboxSender
from shared.jobs.dead_letters import DeadLetterArchive
from shared.jobs.ledger import JobStatus
from tests.fakes.clock import FakeClock
from tests.fakes.email import RecordingEmailSender
from tests.support.events import notification_job_id, notification_requested
from tests.support.running_notifier import RunningNotifier
from tests.support.waiting import wait_until


@pytest.fixture
def notifier(amqp_url, database_url):
    with RunningNotifier(amqp_url, database_url, clock=FakeClock()) as notifier:
        yield notifier


def with_recipient(**fields) -> dict:
    body = notification_requested()
    body["recipient"] = {**body["recipient"], **fields}
    return body


def test_hostile_requests_are_dead_lettered_as_invalid_events_with_the_reason(notifier):
    notifier.start(RecordingEmailSender())
    archive = DeadLetterArchive(notifier.session_factory, notifier.ledger, FakeClock())
    poison = [
        with_recipient(name="Bat\x00"),
        with_recipient(name="Bat\r\nBcc: victim@example.com"),
        with_recipient(timezone="Asia"),
        with_recipient(timezone="posixrules"),
        notification_requested(occurred_at="9999-12-31T23:59:59Z"),
        notification_requested(data={"title": "a\x00b", "body": "x"}),
    ]
    for body in poison:
        notifier.publish_request(body)
    infinite = json.dumps(notification_requested()).replace('"data": {', '"data": {"amount": 1e400, ').encode()
    notifier.publish_request(infinite)
    valid = notification_requested()
    notifier.publish_request(valid)

    wait_until(lambda: notifier.job_status(notification_job_id(valid)) == JobStatus.COMPLETED, what="the valid one delivered")
    count, items = wait_until(
        lambda: (page := archive.list_page())[0] == len(poison) + 1 and page, what="every poison message archived"
    )
    assert {item.reason for item in items} == {"invalid_event"}
    errors = " ".join(item.last_error or "" for item in items)
    for expected in ("NUL character", "control character (U+000D)", "unknown IANA time zone 'Asia'",
                     "unknown IANA time zone 'posixrules'", "from 2000-01-01 to before 2100-01-01",
                     "data.title", "numbers must be finite"):
        assert expected in errors, errors


def test_an_internationalized_address_reaches_the_outbox(notifier, tmp_path):
    notifier.start(OutboxSender(tmp_path))
    body = with_recipient(email="бат@жишээ.мн")
    job_id = notification_job_id(body)

    notifier.publish_request(body)

    wait_until(lambda: notifier.job_status(job_id) == JobStatus.COMPLETED, what="the email written")
    [eml] = tmp_path.glob("*.eml")
    message = Parser(policy=default_policy).parsestr(eml.read_bytes().decode("utf-8"))
    assert message["To"].addresses[0].addr_spec == "бат@xn--f1ae2cuaa.xn--l1ac"
