"""Retention of the sign-in history: records older than the configured age go, in batches.

auth_events runs no workers, so its consumer of ``maintenance.retention.due`` does the work
itself. Deleting what is past an age is idempotent: a redelivered event deletes nothing more.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from services.auth_events.tables import SignInRecord
from shared.clock import Clock
from shared.db import delete_in_batches
from shared.schemas.scheduler import MaintenanceDueV1

logger = logging.getLogger("herald.auth_events.retention")

#: Rows per DELETE transaction, so no transaction holds locks for long.
BATCH_SIZE = 1000


@dataclass
class SignInRetention:
    session_factory: sessionmaker[Session]
    clock: Clock
    days: int
    batch_size: int = BATCH_SIZE

    def run(self, due: MaintenanceDueV1) -> None:
        """Handle one ``maintenance.retention.due``; other tasks are not auth_events' to do."""
        if due.task != "retention":
            logger.info("maintenance event ignored", extra={"task": due.task, "event_id": due.event_id})
            return
        cutoff = self.clock.now() - timedelta(days=self.days)
        deleted = self.delete_older_than(cutoff)
        logger.info(
            "sign-in history retention done",
            extra={"event_id": due.event_id, "deleted": {"signin_history": deleted}, "older_than_days": self.days},
        )

    def delete_older_than(self, cutoff: datetime) -> int:
        return delete_in_batches(
            self.session_factory, SignInRecord.__table__, SignInRecord.occurred_at < cutoff, self.batch_size
        )
