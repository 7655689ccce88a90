"""The record of emails sent, one row per job: the proof that an event already got its email."""

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from services.notifier.tables import EmailDelivery
from shared.clock import Clock
from shared.db import insert_ignoring_conflicts


class DeliveryLog:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def already_sent(self, session: Session, job_id: str) -> bool:
        return session.execute(_SENT, {"p_job_id": job_id}).first() is not None

    def record(self, session: Session, *, job_id: str, user_id: str, transport: str, provider_message_id: str | None) -> None:
        insert_ignoring_conflicts(
            session,
            EmailDelivery.__table__,
            {
                "job_id": job_id,
                "user_id": user_id,
                "transport": transport,
                "provider_message_id": provider_message_id,
                "sent_at": self._clock.now(),
            },
        )


# On the Table: a select of the mapped class's columns would go through the ORM for nothing.
_deliveries = EmailDelivery.__table__
_SENT = select(_deliveries.c.job_id).where(_deliveries.c.job_id == bindparam("p_job_id"))
