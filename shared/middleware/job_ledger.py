"""Keeps the job ledger in step with the worker: processing, retrying, completed, dead.

Sits before ``Retries`` in the middleware list: Dramatiq runs "after" hooks in reverse order,
so by the time this one runs, ``Retries`` has decided whether the message is failed for good.
"""

import logging

import dramatiq
from dramatiq.middleware import SkipMessage
from pydantic import ValidationError

from shared.errors import PermanentError
from shared.jobs.ledger import JobLedger, JobStatus
from shared.middleware.correlation import OPTION as CORRELATION_OPTION

logger = logging.getLogger("herald.jobs")


def describe_error(exception: BaseException) -> str:
    cause = exception.__cause__ if isinstance(exception, dramatiq.Retry) and exception.__cause__ else exception
    # PostgreSQL refuses NUL in text, and an error about hostile input may quote it.
    return f"{type(cause).__name__}: {cause}".replace("\x00", "\ufffd")


def dead_reason(exception: BaseException) -> str:
    if isinstance(exception, ValidationError):
        return "invalid_message"
    if isinstance(exception, PermanentError):
        return "permanent_error"
    return "retries_exhausted"


class JobLedgerMiddleware(dramatiq.Middleware):
    def __init__(self, ledger: JobLedger) -> None:
        self._ledger = ledger

    @property
    def actor_options(self):
        # job_type: the ledger's name for the actor's jobs; defaults to the actor name.
        return {"job_type"}

    def before_process_message(self, broker, message):
        actor = broker.get_actor(message.actor_name)
        max_retries = message.options.get("max_retries", actor.options.get("max_retries", 0))
        status = self._ledger.start_attempt(
            message.message_id,
            job_type=actor.options.get("job_type", message.actor_name),
            max_attempts=max_retries + 1,
            correlation_id=message.options.get(CORRELATION_OPTION),
        )
        if status == JobStatus.CANCELLED:
            # Acked without running: an operator cancelled it while it waited.
            logger.info("job cancelled; not run", extra={"job_id": message.message_id})
            raise SkipMessage(f"job {message.message_id} was cancelled")

    def after_process_message(self, broker, message, *, result=None, exception=None):
        job_id = message.message_id
        if exception is None:
            self._ledger.complete(job_id)
            logger.info("job finished", extra={"job_id": job_id, "actor": message.actor_name})
            return
        error = describe_error(exception)
        if message.failed:
            reason = dead_reason(exception)
            self._ledger.dead(job_id, reason, error)
            logger.warning("job dead", extra={"job_id": job_id, "reason": reason, "error": error})
        else:
            self._ledger.retrying(job_id, error)
            logger.info("job will be retried", extra={"job_id": job_id, "error": error})

    def after_skip_message(self, broker, message):
        # AgeLimit and friends skip by failing the message: it goes to the dead-letter queue.
        if message.failed:
            self._ledger.dead(message.message_id, "expired", None)
