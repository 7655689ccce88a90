"""auth_events' logic: accept a sign-in fact once, keep it, and ask notifier for an alert."""

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from services.auth_events.adapters.signin_history import SignInHistory
from shared.correlation import current_correlation_id
from shared.db import unit_of_work
from shared.ledger import JobLedger
from shared.publisher import Publisher
from shared.schemas import SendSignInAlertV1, UserSignedInV1
from shared.topology import SEND_SIGNIN_ALERT

logger = logging.getLogger("herald.auth_events")


@dataclass(frozen=True)
class Acceptance:
    event_id: str
    job_id: str
    duplicate: bool


@dataclass
class AuthEventsDeps:
    session_factory: sessionmaker[Session]
    ledger: JobLedger
    history: SignInHistory
    publisher: Publisher


def accept_signed_in(event: UserSignedInV1, *, received_via: str, deps: AuthEventsDeps) -> Acceptance:
    """Record the event and its alert job, and enqueue the alert; idempotent on ``event_id``.

    The publish happens inside the transaction and before the commit: if RabbitMQ does not
    confirm, nothing is recorded and the caller can try again. If two paths race with the same
    event, the second insert of the job waits for the first transaction and then finds the job.
    """
    route = SEND_SIGNIN_ALERT
    job_id = route.job_id_for(event.event_id)
    with unit_of_work(deps.session_factory) as session:
        accepted = deps.ledger.accept(
            session,
            job_id=job_id,
            job_type=route.job_type,
            max_attempts=route.max_attempts,
            correlation_id=current_correlation_id(),
            subject_id=event.user.id,
        )
        if not accepted:
            return Acceptance(event.event_id, job_id, duplicate=True)
        deps.history.record(session, event, received_via=received_via)
        command = SendSignInAlertV1(
            job_id=job_id,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            user=event.user,
            context=event.context,
        )
        deps.publisher.send(route, command.model_dump(mode="json"), message_id=job_id)
    logger.info("sign-in event accepted", extra={"job_id": job_id, "via": received_via, "user_id": event.user.id})
    return Acceptance(event.event_id, job_id, duplicate=False)
