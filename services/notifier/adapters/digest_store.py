"""Digest state in the database: notifications waiting for a digest, and each period's delivery."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.notifier.digest_rendering import DigestItem
from services.notifier.tables import DigestDelivery, Notification
from shared.clock import Clock
from shared.db import insert_ignoring_conflicts

PENDING = "pending"
DIGESTED = "digested"

#: Ids per UPDATE ... WHERE id IN (...): well under every driver's limit on bound parameters.
_IDS_PER_STATEMENT = 500


@dataclass(frozen=True)
class PendingNotification:
    id: str
    category: str
    created_at: datetime


class DigestStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def already_delivered(self, session: Session, schedule_id: str, period_key: str) -> bool:
        return session.get(DigestDelivery, (schedule_id, period_key)) is not None

    def pending(
        self, session: Session, user_id: str, *, up_to: datetime, categories: list[str]
    ) -> list[PendingNotification]:
        """The user's notifications waiting for a digest, created up to ``up_to``, newest first;
        only ``categories`` unless it is empty."""
        statement = (
            select(Notification.id, Notification.category, Notification.created_at)
            .where(
                Notification.user_id == user_id,
                Notification.digest_state == PENDING,
                Notification.created_at <= up_to,
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
        )
        if categories:
            statement = statement.where(Notification.category.in_(categories))
        return [PendingNotification(*row) for row in session.execute(statement)]

    def items(self, session: Session, ids: list[str]) -> list[DigestItem]:
        """The listed notifications' text, in the order of ``ids``."""
        rows = session.execute(
            select(Notification.id, Notification.title, Notification.body, Notification.created_at).where(
                Notification.id.in_(ids)
            )
        )
        by_id = {row.id: DigestItem(row.title, row.body, row.created_at) for row in rows}
        return [by_id[id_] for id_ in ids if id_ in by_id]

    def mark_digested(self, session: Session, ids: list[str], period_key: str) -> None:
        now = self._clock.now()
        for start in range(0, len(ids), _IDS_PER_STATEMENT):
            session.execute(
                update(Notification)
                .where(Notification.id.in_(ids[start : start + _IDS_PER_STATEMENT]), Notification.digest_state == PENDING)
                .values(digest_state=DIGESTED, digested_at=now, digest_period_key=period_key)
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
