"""Digest state in the database: notifications waiting for a digest, and each period's delivery.

Every query here is bounded or set-based, so one digest costs the same memory and round trips
whether the user has ten pending notifications or a hundred thousand.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, literal, null, select, true, update
from sqlalchemy.orm import Session

from services.notifier.digests.model import DigestItem
from services.notifier.email.outcomes import replacing_failed_outcomes
from services.notifier.tables import DIGEST_PENDING, DigestDelivery, Notification, NotificationOutcome
from shared.clock import Clock
from shared.db import UtcDateTime, dialect_insert, insert_ignoring_conflicts

DIGESTED = "digested"


@dataclass(frozen=True)
class Coverage:
    """The notifications one digest covers: the user's pending ones created up to ``up_to``, in
    ``categories`` (empty: every category), as ``claim`` found them for ``period_key``."""

    user_id: str
    up_to: datetime
    period_key: str
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ShownCategories:
    """Which covered notifications a digest shows; the others are covered but skipped."""

    #: Only these categories (None: any) ...
    only: frozenset[str] | None = None
    #: ... and none of these.
    excluded: frozenset[str] = frozenset()



class DigestStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def already_delivered(self, session: Session, schedule_id: str, period_key: str) -> bool:
        return session.get(DigestDelivery, (schedule_id, period_key)) is not None

    def claim(self, session: Session, coverage: Coverage) -> int:
        """Take the notifications the digest covers, before it is sent: one that turns pending
        while the email is on its way (its delivery job ran late) is not taken, so it waits for
        the next digest instead of being marked digested unseen. How many it took."""
        condition = and_(
            Notification.user_id == coverage.user_id,
            Notification.digest_state == DIGEST_PENDING,
            Notification.created_at <= coverage.up_to,
        )
        if coverage.categories:
            condition = and_(condition, Notification.category.in_(sorted(coverage.categories)))
        return session.execute(update(Notification).where(condition).values(digest_period_key=coverage.period_key)).rowcount

    def listed(self, session: Session, coverage: Coverage, shown: ShownCategories, limit: int) -> list[DigestItem]:
        """The newest ``limit`` shown notifications, newest first."""
        rows = session.execute(
            select(Notification.title, Notification.body, Notification.created_at)
            .where(_covered(coverage), _shown(shown))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
        return [DigestItem(*row) for row in rows]

    def count_shown(self, session: Session, coverage: Coverage, shown: ShownCategories) -> int:
        return session.scalar(select(func.count()).select_from(Notification).where(_covered(coverage), _shown(shown)))

    def record_email_outcomes(
        self, session: Session, coverage: Coverage, shown: ShownCategories, *, skip_reason: str
    ) -> None:
        """One email outcome per covered notification, under its own job id and category: ``sent``
        when shown, else ``skipped`` for ``skip_reason``. Like OutcomeLog.record, an outcome
        recorded already stays, unless it is ``failed`` (a replay's outcome replaces it).

        Call it before ``mark_digested``: it reads the covered notifications while still pending."""
        is_shown = _shown(shown)
        rows = select(
            Notification.id,
            Notification.user_id,
            Notification.category,
            literal("email"),
            case((is_shown, literal("sent")), else_=literal("skipped")),
            case((is_shown, null()), else_=literal(skip_reason)),
            literal(self._clock.now(), UtcDateTime()),
        ).where(_covered(coverage))
        session.execute(_outcomes_from(session.get_bind().dialect.name, rows))

    def mark_digested(self, session: Session, coverage: Coverage) -> None:
        session.execute(
            update(Notification).where(_covered(coverage)).values(digest_state=DIGESTED, digested_at=self._clock.now())
        )

    def record_delivery(
        self,
        session: Session,
        *,
        schedule_id: str,
        period_key: str,
        user_id: str,
        job_id: str,
        outcome: str,
        items: int = 0,
        provider_message_id: str | None = None,
    ) -> bool:
        """Record the period's digest; False when it was recorded already."""
        return insert_ignoring_conflicts(
            session,
            DigestDelivery.__table__,
            {
                "schedule_id": schedule_id,
                "period_key": period_key,
                "user_id": user_id,
                "job_id": job_id,
                "outcome": outcome,
                "items": items,
                "provider_message_id": provider_message_id,
                "delivered_at": self._clock.now(),
            },
        )


def _covered(coverage: Coverage) -> ColumnElement[bool]:
    """What ``claim`` took for this period and is still pending."""
    return and_(
        Notification.user_id == coverage.user_id,
        Notification.digest_state == DIGEST_PENDING,
        Notification.digest_period_key == coverage.period_key,
    )


def _shown(shown: ShownCategories) -> ColumnElement[bool]:
    condition = true()
    if shown.only is not None:
        condition = and_(condition, Notification.category.in_(sorted(shown.only)))
    if shown.excluded:
        condition = and_(condition, Notification.category.not_in(sorted(shown.excluded)))
    return condition


_OUTCOME_COLUMNS = ("job_id", "user_id", "category", "channel", "outcome", "reason", "occurred_at")


def _outcomes_from(dialect: str, rows):
    insert = dialect_insert(dialect)(NotificationOutcome.__table__).from_select(_OUTCOME_COLUMNS, rows)
    return replacing_failed_outcomes(insert)
