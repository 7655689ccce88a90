"""auth_events' logic: accept a sign-in fact once, keep it, and ask notifier for an alert."""

import logging
from dataclasses import dataclass

from services.auth_events.adapters.signin_history import SignInHistory
from shared.jobs.intake import Acceptance, JobIntake
from shared.schemas import SendSignInAlertV1, UserSignedInV1
from shared.topology import SEND_SIGNIN_ALERT

logger = logging.getLogger("herald.auth_events")


@dataclass
class AuthEventsDeps:
    intake: JobIntake
    history: SignInHistory


def accept_signed_in(event: UserSignedInV1, *, received_via: str, deps: AuthEventsDeps) -> Acceptance:
    """Record the event and its alert job, and enqueue the alert; idempotent on ``event_id``."""

    def alert_command(job_id: str) -> dict:
        return SendSignInAlertV1(
            job_id=job_id,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            user=event.user,
            context=event.context,
        ).model_dump(mode="json")

    acceptance = deps.intake.accept(
        SEND_SIGNIN_ALERT,
        event_id=event.event_id,
        payload_for_job=alert_command,
        subject_id=event.user.id,
        kept_row=lambda _job_id: deps.history.row(event, received_via=received_via),
    )
    if not acceptance.duplicate:
        logger.info(
            "sign-in event accepted",
            extra={"job_id": acceptance.job_id, "via": received_via, "user_id": event.user.id},
        )
    return acceptance
