"""One send-and-record, for every email notifier sends: sign-in alerts, notifications, digests and
the dead-letter watchdog's alert.

The email is sent outside any transaction: a slow provider must not hold a database lock. Then
what became of it is recorded in one unit of work, by the capability's ``SendRecord``: sent (with
the transport and the provider's message id), or refused for good (``PermanentEmailError``:
recorded, logged, then raised again for the caller to decide). A ``TransientEmailError`` records
nothing and goes up, so the job is retried. Log lines carry the job id (the email's idempotency
key) and name the recipient masked.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from services.notifier.email.delivery_log import DeliveryLog
from services.notifier.email.message import EmailSender, OutgoingEmail, PermanentEmailError
from services.notifier.email.outcomes import OutcomeLog
from shared.db import unit_of_work
from shared.runtime.masking import mask_email

EMAIL_CHANNEL = "email"


class SendRecord(Protocol):
    """What one kind of email writes once it is sent, or once it is refused for good."""

    def sent(self, session: Session, transport: str, provider_message_id: str | None) -> None: ...

    def refused(self, session: Session) -> None: ...


@dataclass(frozen=True)
class SendLog:
    """How one kind of email is logged."""

    logger: logging.Logger
    #: Logged (info) once sent, with the job id, the masked recipient and ``sent_fields``.
    sent: str
    sent_fields: Mapping[str, object] = field(default_factory=dict)
    #: Logged (warning) when refused for good, with the job id and the error; None: not logged.
    refused: str | None = None
    #: Whether the refusal's line names the (masked) recipient too.
    refusal_names_recipient: bool = False


@dataclass(frozen=True)
class JobEmailRecord:
    """A job's email to a user: the delivery log, which makes one job one email (a redelivered job
    finds it and sends nothing), and the job's email outcome for the statistics."""

    delivery_log: DeliveryLog
    outcomes: OutcomeLog
    job_id: str
    user_id: str
    category: str

    def sent(self, session: Session, transport: str, provider_message_id: str | None) -> None:
        self.delivery_log.record(
            session,
            job_id=self.job_id,
            user_id=self.user_id,
            transport=transport,
            provider_message_id=provider_message_id,
        )
        self._outcome(session, "sent")

    def refused(self, session: Session) -> None:
        self._outcome(session, "failed", "permanent_error")

    def _outcome(self, session: Session, outcome: str, reason: str | None = None) -> None:
        self.outcomes.record(
            session,
            job_id=self.job_id,
            user_id=self.user_id,
            category=self.category,
            channel=EMAIL_CHANNEL,
            outcome=outcome,
            reason=reason,
        )


def send_and_record(
    email: OutgoingEmail,
    sender: EmailSender,
    session_factory: sessionmaker[Session],
    *,
    record: SendRecord | None = None,
    log: SendLog | None = None,
) -> str | None:
    """Send ``email``; record and log what became of it. Returns the provider's message id.

    Without ``record`` nothing is written (the watchdog keeps its memory in its run's details);
    without ``log`` nothing is logged here.
    """
    try:
        provider_message_id = sender.send(email)
    except PermanentEmailError as error:
        if record is not None:
            with unit_of_work(session_factory) as session:
                record.refused(session)
        if log is not None and log.refused is not None:
            recipient = {"to": mask_email(email.to_address)} if log.refusal_names_recipient else {}
            log.logger.warning(log.refused, extra={"job_id": email.idempotency_key, **recipient, "error": str(error)})
        raise
    if record is not None:
        with unit_of_work(session_factory) as session:
            record.sent(session, sender.name, provider_message_id)
    if log is not None:
        log.logger.info(
            log.sent, extra={"job_id": email.idempotency_key, "to": mask_email(email.to_address), **log.sent_fields}
        )
    return provider_message_id
