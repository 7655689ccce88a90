"""Sign-in alerts: one email per suspicious sign-in, within the user's hourly limit. Side effects
come in as dependencies (see bootstrap)."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from services.notifier.email.delivery import EMAIL_CHANNEL, JobEmailRecord, SendLog, send_and_record
from services.notifier.email.delivery_log import DeliveryLog
from services.notifier.email.message import EmailSender
from services.notifier.email.outcomes import OutcomeLog
from services.notifier.signin_alerts.rendering import render_signin_alert
from shared.db import unit_of_work
from shared.jobs.ledger import JobLedger
from shared.jobs.rate_limit import SlidingWindowLimit
from shared.schemas import SECURITY_CATEGORY, SendSignInAlertV1

logger = logging.getLogger("herald.notifier")

SIGNIN_ALERT_WINDOW = timedelta(hours=1)


class AlertOutcome(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class SignInAlertPolicy:
    product_name: str
    default_locale: str
    from_header: str
    limit_per_hour: int


@dataclass
class SignInAlertDeps:
    session_factory: sessionmaker[Session]
    ledger: JobLedger
    delivery_log: DeliveryLog
    rate_limit: SlidingWindowLimit
    email_sender: EmailSender
    policy: SignInAlertPolicy
    #: What became of each alert, for the statistics.
    outcomes: OutcomeLog


def send_signin_alert(command: SendSignInAlertV1, deps: SignInAlertDeps) -> AlertOutcome:
    """Send the alert once per job, within the user's hourly limit.

    Safe to run twice (Dramatiq delivers at least once): a job already in the delivery log
    sends nothing, and its rate-limit slot is keyed by job id so it is not counted again.
    """
    policy = deps.policy
    with unit_of_work(deps.session_factory) as session:
        if deps.delivery_log.already_sent(session, command.job_id):
            logger.info("alert already sent; nothing to do", extra={"job_id": command.job_id})
            return AlertOutcome.ALREADY_SENT
        allowed = deps.rate_limit.acquire(
            session,
            key=f"signin_alert:{command.user.id}",
            token=command.job_id,
            limit=policy.limit_per_hour,
            window=SIGNIN_ALERT_WINDOW,
        )
        if not allowed:
            deps.outcomes.record(
                session,
                job_id=command.job_id,
                user_id=command.user.id,
                category=SECURITY_CATEGORY,
                channel=EMAIL_CHANNEL,
                outcome="skipped",
                reason="rate_limited",
            )
    if not allowed:
        deps.ledger.skip(command.job_id, "rate_limited")
        logger.info("alert skipped: rate limited", extra={"job_id": command.job_id, "user_id": command.user.id})
        return AlertOutcome.RATE_LIMITED

    email = render_signin_alert(
        command,
        product_name=policy.product_name,
        default_locale=policy.default_locale,
        from_header=policy.from_header,
    )
    send_and_record(
        email,
        deps.email_sender,
        deps.session_factory,
        record=_AlertRecord(deps.delivery_log, deps.outcomes, command.job_id, command.user.id, SECURITY_CATEGORY, deps.rate_limit),
        log=SendLog(logger, "alert sent", {"transport": deps.email_sender.name}),
    )
    return AlertOutcome.SENT


@dataclass(frozen=True)
class _AlertRecord(JobEmailRecord):
    rate_limit: SlidingWindowLimit

    def refused(self, session: Session) -> None:
        # Nothing will be sent for this job, so it does not count against the user's limit.
        self.rate_limit.release(session, self.job_id)
        super().refused(session)

