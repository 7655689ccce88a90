"""The dead-letter watchdog: too many archived dead letters means something is broken.

At or above the threshold it logs an error-level alert and, when ADMIN_EMAIL is set, emails it.
It alerts again only once ``repeat_hours`` have passed, or sooner if the count has doubled since
the last alert; once the count falls below the threshold it forgets, so the next crossing alerts
at once. Its memory is the details of its last run (``last_alert_at``, ``last_alert_count``).
"""

import html
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.notifier.email.delivery import send_and_record
from services.notifier.email.message import OutgoingEmail, PermanentEmailError, TransientEmailError
from services.notifier.maintenance.deps import MaintenanceDeps, TaskResult, WatchdogPolicy
from services.notifier.maintenance.runs import latest_run
from shared.db import unit_of_work
from shared.jobs.dead_letters import DeadLetter
from shared.schemas.scheduler import MaintenanceDueV1
from shared.topology import RUN_MAINTENANCE

logger = logging.getLogger("herald.notifier.watchdog")

TASK = "dead_letter_watchdog"


def should_alert(
    count: int, policy: WatchdogPolicy, now: datetime, last_alert_at: datetime | None, last_alert_count: int | None
) -> bool:
    if count < policy.threshold:
        return False
    if last_alert_at is None or last_alert_count is None:
        return True
    return count >= 2 * last_alert_count or now - last_alert_at >= timedelta(hours=policy.repeat_hours)


def alert_email(count: int, policy: WatchdogPolicy, job_id: str) -> OutgoingEmail:
    subject = f"⚠️ {policy.product_name}: {count} dead letters waiting"
    text = (
        f"{count} messages are in {policy.product_name}'s dead-letter archive "
        f"(alert threshold {policy.threshold}).\n\n"
        "List them with GET /v1/admin/dlq on notifier, then replay or purge them.\n"
    )
    paragraphs = html.escape(text.strip()).split("\n\n")
    return OutgoingEmail(
        to_address=policy.admin_email,
        to_name="",
        from_header=policy.from_header,
        subject=subject,
        text=text,
        html="".join(f"<p>{paragraph}</p>" for paragraph in paragraphs),
        idempotency_key=job_id,
    )


def run_watchdog(due: MaintenanceDueV1, deps: MaintenanceDeps) -> TaskResult:
    policy, now = deps.watchdog, deps.clock.now()
    with unit_of_work(deps.session_factory) as session:
        count = session.scalar(select(func.count()).select_from(DeadLetter))
        last = latest_run(session, TASK)
    memory = last.details if last is not None else {}
    last_alert_at = datetime.fromisoformat(memory["last_alert_at"]) if memory.get("last_alert_at") else None
    last_alert_count = memory.get("last_alert_count")

    details = {"count": count, "threshold": policy.threshold, "alerted": False, "emailed": False}
    if count < policy.threshold:
        return TaskResult(rows=count, details=details)  # below the threshold: forget the last alert
    details.update(last_alert_at=memory.get("last_alert_at"), last_alert_count=last_alert_count)
    if not should_alert(count, policy, now, last_alert_at, last_alert_count):
        return TaskResult(rows=count, details=details)

    logger.error("dead letters above the alert threshold", extra={"count": count, "threshold": policy.threshold})
    if policy.admin_email:
        try:
            # The run's job id: a key fit for a Message-ID (the event id's colons are not).
            email = alert_email(count, policy, RUN_MAINTENANCE.job_id_for(due.event_id))
            # Its only record is the run's details; both kinds of failure are handled below.
            send_and_record(email, deps.email_sender, deps.session_factory)
            details["emailed"] = True
        except (TransientEmailError, PermanentEmailError) as email_error:
            # Not remembered as alerted, so the next run tries again.
            logger.error("dead-letter alert email not sent", extra={"error": str(email_error)})
            error = f"alert email not sent: {type(email_error).__name__}: {email_error}"
            return TaskResult(rows=count, details=details, error=error)
    details.update(alerted=True, last_alert_at=now.isoformat(), last_alert_count=count)
    return TaskResult(rows=count, details=details)
