"""Accepting the job an event asks for, once, whichever way the event arrived (HTTP or a queue).

The job is recorded in the ledger and its Dramatiq message published inside one transaction,
publish before commit: if RabbitMQ does not confirm, nothing is recorded and the caller can try
again. If two paths race with the same event, the second insert of the job waits for the first
transaction and then finds the job: a duplicate.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from shared.correlation import current_correlation_id
from shared.db import unit_of_work
from shared.ledger import JobLedger
from shared.publisher import Publisher
from shared.topology import ActorRoute


@dataclass(frozen=True)
class Acceptance:
    event_id: str
    job_id: str
    duplicate: bool


@dataclass
class JobIntake:
    session_factory: sessionmaker[Session]
    ledger: JobLedger
    publisher: Publisher

    def accept(
        self,
        route: ActorRoute,
        *,
        event_id: str,
        payload_for_job: Callable[[str], dict],
        subject_id: str | None = None,
        record: Callable[[Session, str], None] | None = None,
    ) -> Acceptance:
        """Accept the job for ``event_id`` on ``route``; a duplicate records and sends nothing.

        ``payload_for_job(job_id)`` is the actor's message; ``record(session, job_id)`` keeps
        what the service keeps about the event, in the same transaction.
        """
        job_id = route.job_id_for(event_id)
        with unit_of_work(self.session_factory) as session:
            accepted = self.ledger.accept(
                session,
                job_id=job_id,
                job_type=route.job_type,
                max_attempts=route.max_attempts,
                correlation_id=current_correlation_id(),
                subject_id=subject_id,
            )
            if not accepted:
                return Acceptance(event_id, job_id, duplicate=True)
            if record is not None:
                record(session, job_id)
            self.publisher.send(route, payload_for_job(job_id), message_id=job_id)
        return Acceptance(event_id, job_id, duplicate=False)
