"""What became of each job on each channel (sent, skipped and why, or failed): one row per job and
channel, the facts notifier's statistics roll up. Every capability records here, through
``email.delivery`` for its emails."""

import functools

from sqlalchemy.orm import Session

from services.notifier.tables import NotificationOutcome
from shared.clock import Clock
from shared.db import dialect_insert, insert_ignoring_conflicts


class OutcomeLog:
    """One row per job and channel: sent, skipped (why) or failed; the facts statistics roll up."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def record(
        self, session: Session, *, job_id: str, user_id: str, category: str, channel: str, outcome: str, reason: str | None = None
    ) -> None:
        """Record the outcome once; only a ``failed`` one gives way, to a later attempt's (a replay)."""
        values = {
            "job_id": job_id,
            "user_id": user_id,
            "category": category,
            "channel": channel,
            "outcome": outcome,
            "reason": reason,
            "occurred_at": self._clock.now(),
        }
        if outcome == "failed":
            insert_ignoring_conflicts(session, NotificationOutcome.__table__, values)
        else:
            session.execute(_replacing_failed(session.get_bind().dialect.name), values)


def replacing_failed_outcomes(statement):
    """``statement``, an INSERT of outcomes, made to keep an outcome recorded already unless it
    is ``failed``: a replay's outcome replaces that one."""
    return statement.on_conflict_do_update(
        index_elements=["job_id", "channel"],
        set_={column: statement.excluded[column] for column in ("outcome", "reason", "occurred_at")},
        where=NotificationOutcome.__table__.c.outcome == "failed",
    )


@functools.cache
def _replacing_failed(dialect: str):
    return replacing_failed_outcomes(dialect_insert(dialect)(NotificationOutcome.__table__))
