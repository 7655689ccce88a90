"""The one send-and-record every notifier email goes through: what it records, logs and raises."""

import logging
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session

from services.notifier.email.delivery import SendLog, send_and_record
from services.notifier.email.message import OutgoingEmail, PermanentEmailError, TransientEmailError
from tests.fakes.email import RecordingEmailSender
from tests.support.databases import in_memory_session_factory

LOGGER = "herald.test.delivery"


@dataclass
class RecordingSendRecord:
    calls: list[tuple] = field(default_factory=list)

    def sent(self, session: Session, transport: str, provider_message_id: str | None) -> None:
        self.calls.append(("sent", transport, provider_message_id))

    def refused(self, session: Session) -> None:
        self.calls.append(("refused",))


def email() -> OutgoingEmail:
    return OutgoingEmail("bat@example.mn", "Бат", "Herald <no-reply@localhost>", "Hi", "text", "<p>html</p>", "job-1")


def test_a_sent_email_is_recorded_with_its_transport_and_logged_with_the_recipient_masked(caplog):
    sender, record = RecordingEmailSender(), RecordingSendRecord()
    log = SendLog(logging.getLogger(LOGGER), "sent it", {"transport": sender.name})

    with caplog.at_level(logging.INFO, logger=LOGGER):
        provider_id = send_and_record(email(), sender, in_memory_session_factory(), record=record, log=log)

    assert provider_id == "recorded-job-1"
    assert record.calls == [("sent", "recording", "recorded-job-1")]
    [line] = caplog.records
    assert (line.getMessage(), line.job_id, line.to, line.transport) == ("sent it", "job-1", "b***@example.mn", "recording")


@pytest.mark.parametrize("names_recipient", [False, True])
def test_a_refused_email_is_recorded_logged_and_raised_again(caplog, names_recipient):
    sender, record = RecordingEmailSender(), RecordingSendRecord()
    sender.fail_next(PermanentEmailError("no such mailbox"))
    log = SendLog(logging.getLogger(LOGGER), "sent it", refused="refused it", refusal_names_recipient=names_recipient)

    with caplog.at_level(logging.INFO, logger=LOGGER), pytest.raises(PermanentEmailError):
        send_and_record(email(), sender, in_memory_session_factory(), record=record, log=log)

    assert record.calls == [("refused",)]
    [line] = caplog.records
    assert (line.levelno, line.getMessage(), line.job_id, line.error) == (logging.WARNING, "refused it", "job-1", "no such mailbox")
    assert getattr(line, "to", None) == ("b***@example.mn" if names_recipient else None)


def test_a_transient_failure_records_and_logs_nothing(caplog):
    sender, record = RecordingEmailSender(), RecordingSendRecord()
    sender.fail_next(TransientEmailError("try later"))
    log = SendLog(logging.getLogger(LOGGER), "sent it", refused="refused it")

    with caplog.at_level(logging.INFO, logger=LOGGER), pytest.raises(TransientEmailError):
        send_and_record(email(), sender, in_memory_session_factory(), record=record, log=log)

    assert record.calls == [] and caplog.records == []
