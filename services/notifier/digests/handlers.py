"""Building and sending due digests, one period of one schedule at a time, at most once.

Policies (README "Digests"):
- A period is done once a DigestDelivery row exists for (schedule_id, period_key): sent,
  muted, opted_out or failed. A redelivered or re-emitted digest finds it and does nothing.
- A digest covers the user's notifications waiting for a digest (``pending``) created up to its
  ``scheduled_for``, in its categories (none listed: all). It lists the newest ``max_items``,
  newest first, and sums up the rest as "and N more". Everything it covers is marked digested,
  listed or not, so a busy user gets this period's news rather than a growing backlog.
- Muted users, and users who opted out of the ``digest`` category on email, get no email; the
  covered notifications are marked digested anyway so they do not pile up (they stay in the
  in-app inbox). Security notifications cannot be muted: such a user's digest lists only them,
  and is sent when there are any. Notifications of a category the user opted out of by email
  since they were requested are covered but not listed; a digest with nothing left to list
  ends ``opted_out`` (or ``muted``) the same way, so they do not pile up either.
- Nothing to list: no email, and nothing written. Most due digests are empty, so at a million
  schedules recording each would cost a write and two rows a schedule a day for nothing: a
  re-run of an empty period is harmless (it is still empty, or catches a late notification).
- A transient email failure leaves the digest undone and, after the rest of the batch, fails the
  job so it is retried (done digests are skipped). A permanent failure (a refused address) marks
  the period ``failed`` and leaves the notifications pending for the next period.
- Outcomes: one per digest (category ``digest``, channel ``email``, under the digest's own job
  id), and one per covered notification under its own job id and category: ``sent``, or
  ``skipped`` with ``muted``/``opted_out``.
"""

import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from services.notifier.digests.rendering import render_digest
from services.notifier.digests.store import Coverage, DigestStore, ShownCategories
from services.notifier.email.delivery import EMAIL_CHANNEL, SendLog, send_and_record
from services.notifier.email.message import EmailSender, PermanentEmailError, TransientEmailError
from services.notifier.email.outcomes import OutcomeLog
from services.notifier.preferences.model import Preferences
from services.notifier.preferences.store import PreferenceStore
from shared.db import unit_of_work
from shared.schemas import SECURITY_CATEGORY
from shared.schemas.scheduler import DigestDueV1, SendDigestsV1
from shared.topology import SEND_DIGESTS

logger = logging.getLogger("herald.notifier.digests")

#: The category digests are recorded under, and the one a user opts out of to stop them.
DIGEST_CATEGORY = "digest"


class DigestOutcome(StrEnum):
    SENT = "sent"
    EMPTY = "empty"
    MUTED = "muted"
    OPTED_OUT = "opted_out"
    FAILED = "failed"
    ALREADY_DONE = "already_done"


@dataclass(frozen=True)
class DigestPolicy:
    product_name: str
    default_locale: str
    from_header: str


@dataclass
class DigestDeps:
    session_factory: sessionmaker[Session]
    store: DigestStore
    preferences: PreferenceStore
    outcomes: OutcomeLog
    email_sender: EmailSender
    policy: DigestPolicy


@dataclass(frozen=True)
class DigestPlan:
    #: Every notification this digest covers: marked digested when it is done.
    coverage: Coverage
    #: The covered ones it shows (lists, or sums up as "and N more"); the user no longer wants
    #: the others by email.
    shown: ShownCategories
    #: Why the others are not shown: ``opted_out``, or ``muted`` for a muted user.
    skip_reason: str = "opted_out"


def plan_digest(digest: DigestDueV1, preferences: Preferences) -> DigestPlan:
    """Notifications the user no longer wants by email are covered but not shown.

    A user who muted digests (or everything) still gets the security ones: they cannot be muted.
    """
    coverage = Coverage(digest.recipient.user_id, digest.scheduled_for, digest.period_key, frozenset(digest.categories))
    if not preferences.allows(DIGEST_CATEGORY, EMAIL_CHANNEL):
        reason = "muted" if preferences.muted else "opted_out"
        return DigestPlan(coverage, ShownCategories(only=frozenset({SECURITY_CATEGORY})), reason)
    opted_out = frozenset(category for category, _ in preferences.opt_outs if not preferences.allows(category, EMAIL_CHANNEL))
    return DigestPlan(coverage, ShownCategories(excluded=opted_out))


def digest_job_id(digest: DigestDueV1) -> str:
    """The id one digest's outcome and email go by: stable per schedule and period."""
    return SEND_DIGESTS.job_id_for(f"digest-item:{digest.event_id}")


def send_digests(command: SendDigestsV1, deps: DigestDeps) -> dict[str, DigestOutcome]:
    """Send every digest of the batch that is not done yet; safe to run again."""
    outcomes: dict[str, DigestOutcome] = {}
    not_sent_now: list[str] = []
    for digest in command.batch.digests:
        try:
            outcomes[digest.event_id] = send_digest(digest, deps)
        except TransientEmailError as error:
            not_sent_now.append(digest.event_id)
            logger.warning("digest not sent; will retry", extra={"digest_event_id": digest.event_id, "error": str(error)})
    if not_sent_now:
        # Fail the job only now, so one slow recipient does not hold back the rest of the batch.
        raise TransientEmailError(
            f"{len(not_sent_now)} of {len(command.batch.digests)} digests could not be sent yet"
        )
    logger.info(
        "digest batch done",
        extra={"job_id": command.job_id, "outcomes": {o.value: list(outcomes.values()).count(o) for o in DigestOutcome}},
    )
    return outcomes


def send_digest(digest: DigestDueV1, deps: DigestDeps) -> DigestOutcome:
    job_id = digest_job_id(digest)
    user_id = digest.recipient.user_id
    with unit_of_work(deps.session_factory) as session:
        if deps.store.already_delivered(session, digest.schedule_id, digest.period_key):
            return DigestOutcome.ALREADY_DONE
        preferences = deps.preferences.get(session, user_id)
        plan = plan_digest(digest, preferences)
        covered = deps.store.claim(session, plan.coverage)
        items = deps.store.listed(session, plan.coverage, plan.shown, limit=digest.max_items)
        # Fewer listed than the cap: there is nothing more to count.
        full = len(items) == digest.max_items
        more = deps.store.count_shown(session, plan.coverage, plan.shown) - len(items) if full else 0

    if not items:
        if not covered:
            return DigestOutcome.EMPTY
        # Everything covered is muted or opted out of: nothing to send, but the notifications are
        # done with (skipped, with the reason) rather than taken again every period.
        skipped = DigestOutcome(plan.skip_reason)
        with unit_of_work(deps.session_factory) as session:
            _record_done(session, deps, digest, job_id, skipped, plan, outcome="skipped", reason=plan.skip_reason)
        return skipped

    policy = deps.policy
    email = render_digest(
        digest,
        items,
        more,
        job_id=job_id,
        product_name=policy.product_name,
        default_locale=policy.default_locale,
        from_header=policy.from_header,
    )
    try:
        send_and_record(
            email,
            deps.email_sender,
            deps.session_factory,
            record=_DigestRecord(deps, digest, job_id, plan, len(items)),
            log=SendLog(
                logger,
                "digest sent",
                {"items": len(items), "more": more},
                refused="digest refused by the email transport",
                refusal_names_recipient=True,
            ),
        )
    except PermanentEmailError:
        return DigestOutcome.FAILED
    return DigestOutcome.SENT


@dataclass(frozen=True)
class _DigestRecord:
    """A digest's email, sent or refused: the period is done either way."""

    deps: DigestDeps
    digest: DigestDueV1
    job_id: str
    plan: DigestPlan
    items: int

    def sent(self, session: Session, transport: str, provider_message_id: str | None) -> None:
        _record_done(
            session,
            self.deps,
            self.digest,
            self.job_id,
            DigestOutcome.SENT,
            self.plan,
            outcome="sent",
            items=self.items,
            provider_message_id=provider_message_id,
        )

    def refused(self, session: Session) -> None:
        # The notifications stay pending: the next period may reach a corrected address.
        _record_done(
            session, self.deps, self.digest, self.job_id, DigestOutcome.FAILED, None, outcome="failed", reason="permanent_error"
        )


def _record_done(
    session: Session,
    deps: DigestDeps,
    digest: DigestDueV1,
    job_id: str,
    delivery_outcome: DigestOutcome,
    plan: DigestPlan | None,
    *,
    outcome: str,
    reason: str | None = None,
    items: int = 0,
    provider_message_id: str | None = None,
) -> None:
    """Record the period as done, and what became of the digest and of each notification it
    covered (``plan``; None leaves them pending), in the caller's transaction."""
    user_id = digest.recipient.user_id
    recorded = deps.store.record_delivery(
        session,
        schedule_id=digest.schedule_id,
        period_key=digest.period_key,
        user_id=user_id,
        job_id=job_id,
        outcome=delivery_outcome.value,
        items=items,
        provider_message_id=provider_message_id,
    )
    if not recorded:
        return  # a concurrent run finished this period first
    deps.outcomes.record(
        session, job_id=job_id, user_id=user_id, category=DIGEST_CATEGORY, channel=EMAIL_CHANNEL, outcome=outcome, reason=reason
    )
    if plan is None:
        return
    # Each notification's email outcome, under its own job and category, as immediate
    # email records it: the statistics count digested notifications like any other. (A
    # skipped digest listed nothing, so its plan shows none of them.)
    deps.store.record_email_outcomes(session, plan.coverage, plan.shown, skip_reason=plan.skip_reason)
    deps.store.mark_digested(session, plan.coverage)
