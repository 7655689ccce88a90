"""Notification requests: accept one (render it, keep it, enqueue its delivery), then deliver it.

Delivery reads the user's preferences first; each channel the user allows gets its due: in-app
shows it in the inbox, email goes out now (once per job) or waits for the user's digest. What
became of each requested channel is recorded, sent or skipped with the reason.
"""

import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from services.notifier.email.delivery import JobEmailRecord, SendLog, send_and_record
from services.notifier.email.delivery_log import DeliveryLog
from services.notifier.email.message import EmailSender, OutgoingEmail
from services.notifier.email.outcomes import OutcomeLog
from services.notifier.notifications.model import RenderedNotification
from services.notifier.notifications.rendering import NotificationTemplates
from services.notifier.notifications.store import NotificationStore
from services.notifier.preferences.store import PreferenceStore
from shared.db import unit_of_work
from shared.jobs.intake import Acceptance, JobIntake
from shared.jobs.ledger import JobLedger
from shared.schemas import DeliverNotificationV1, NotificationRequestedV1
from shared.topology import DELIVER_NOTIFICATION

logger = logging.getLogger("herald.notifier.notifications")


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    MUTED = "muted"
    OPTED_OUT = "opted_out"


@dataclass
class NotificationDeps:
    session_factory: sessionmaker[Session]
    ledger: JobLedger
    intake: JobIntake
    templates: NotificationTemplates
    notifications: NotificationStore
    outcomes: OutcomeLog
    #: The record of emails sent: what makes one job one email, as for sign-in alerts.
    delivery_log: DeliveryLog
    preferences: PreferenceStore
    email_sender: EmailSender
    from_header: str


def render(request: NotificationRequestedV1, templates: NotificationTemplates) -> RenderedNotification:
    return templates.render(
        request.template, request.data, locale=request.recipient.locale, recipient_name=request.recipient.name
    )


def accept_notification(event: NotificationRequestedV1, *, received_via: str, deps: NotificationDeps) -> Acceptance:
    """Keep the notification and enqueue its delivery on its priority's queue; idempotent on event_id.

    Raises ``PermanentError`` (UnknownTemplate, TemplateDataError) for a request its template
    cannot render, before anything is recorded.
    """
    rendered = render(event, deps.templates)

    def deliver_command(job_id: str) -> dict:
        return DeliverNotificationV1(job_id=job_id, request=event).model_dump(mode="json")

    acceptance = deps.intake.accept(
        DELIVER_NOTIFICATION[event.priority],
        event_id=event.event_id,
        payload_for_job=deliver_command,
        subject_id=event.recipient.user_id,
        kept_row=lambda job_id: deps.notifications.row(job_id, event, rendered),
    )
    if not acceptance.duplicate:
        logger.info(
            "notification accepted",
            extra={"job_id": acceptance.job_id, "via": received_via, "user_id": event.recipient.user_id},
        )
    return acceptance


def deliver_notification(command: DeliverNotificationV1, deps: NotificationDeps) -> DeliveryOutcome:
    """Deliver on every channel the user allows. Safe to run twice: nothing is sent or shown twice."""
    request, job_id = command.request, command.job_id
    rendered = render(request, deps.templates)
    with unit_of_work(deps.session_factory) as session:
        preferences = deps.preferences.get(session, request.recipient.user_id)
        allowed = [channel for channel in request.channels if preferences.allows(request.category, channel)]
        skip_reason = "muted" if preferences.muted else "opted_out"
        for channel in request.channels:
            if channel not in allowed:
                _record(deps, session, command, channel, "skipped", skip_reason)
        # Normally kept at intake; kept here too so a message replayed after retention still works.
        deps.notifications.add(session, job_id, request, rendered)
        if "in_app" in allowed:
            deps.notifications.show_in_app(session, job_id)
            _record(deps, session, command, "in_app", "sent")
        email_now = "email" in allowed and request.delivery == "immediate"
        if "email" in allowed and request.delivery == "digest":
            # The digest sends it and records its outcome.
            deps.notifications.await_digest(session, job_id)
        already_sent = email_now and deps.delivery_log.already_sent(session, job_id)

    if not allowed:
        deps.ledger.skip(job_id, skip_reason)
        logger.info("notification skipped", extra={"job_id": job_id, "reason": skip_reason})
        return DeliveryOutcome(skip_reason)
    if email_now and not already_sent:
        _send_email(command, rendered, deps)
    return DeliveryOutcome.DELIVERED


def _send_email(command: DeliverNotificationV1, rendered: RenderedNotification, deps: NotificationDeps) -> None:
    request = command.request
    email = OutgoingEmail(
        to_address=request.recipient.email,
        to_name=request.recipient.name,
        from_header=deps.from_header,
        subject=rendered.title,
        text=rendered.text,
        html=rendered.html,
        idempotency_key=command.job_id,
    )
    send_and_record(
        email,
        deps.email_sender,
        deps.session_factory,
        record=JobEmailRecord(deps.delivery_log, deps.outcomes, command.job_id, request.recipient.user_id, request.category),
        log=SendLog(
            logger,
            "notification email sent",
            {"transport": deps.email_sender.name},
            refused="notification email refused",
        ),
    )


def _record(
    deps: NotificationDeps, session: Session, command: DeliverNotificationV1, channel: str, outcome: str, reason: str | None = None
) -> None:
    deps.outcomes.record(
        session,
        job_id=command.job_id,
        user_id=command.request.recipient.user_id,
        category=command.request.category,
        channel=channel,
        outcome=outcome,
        reason=reason,
    )
