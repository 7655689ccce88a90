"""The dead-letter archive: what RabbitMQ dead-lettered, kept until an operator acts on it.

Every work queue dead-letters into its ``.XQ`` queue; an archiver consumes those queues and
writes each dead letter here with its reason, last error, traceback, attempts and correlation
id, so nothing vanishes when the queue's TTL passes. From here a dead letter can be listed,
replayed to its queue with its retry count reset, or purged.
"""

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import dramatiq
from dramatiq.common import q_name
from dramatiq.errors import DecodeError
from sqlalchemy import JSON, Integer, LargeBinary, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from shared.amqp_consumer import Delivery
from shared.clock import Clock
from shared.db import Base, UtcDateTime, insert_ignoring_conflicts, unit_of_work
from shared.ledger import JobLedger

logger = logging.getLogger("herald.dead_letters")

#: Headers a Herald consumer sets when it dead-letters a delivery itself, to say why.
REASON_HEADER = "x-herald-reason"
ERROR_HEADER = "x-herald-error"
#: Options a replay strips so the message starts over (DRAMATIQ-NOTES: "Retries").
RETRY_STATE_OPTIONS = ("retries", "traceback", "requeue_timestamp", "eta")


class DeadLetter(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # One row per death, however often the archiver sees the same delivery.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    type: Mapped[str | None] = mapped_column(String(64))
    queue_name: Mapped[str] = mapped_column(String(255))
    actor_name: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict] = mapped_column(JSON)
    dead_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


@dataclass(frozen=True)
class DeadLetterView:
    id: int
    job_id: str | None
    type: str | None
    queue_name: str
    reason: str
    last_error: str | None
    attempts: int
    correlation_id: str | None
    dead_at: datetime

    @classmethod
    def of(cls, row: DeadLetter) -> "DeadLetterView":
        return cls(**{field: getattr(row, field) for field in cls.__dataclass_fields__})


def _jsonable(value):
    """AMQP headers hold bytes and datetimes; keep them storable as JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _last_line(text: str | None) -> str | None:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else None


class DeadLetterArchive:
    def __init__(self, session_factory: sessionmaker[Session], ledger: JobLedger, clock: Clock) -> None:
        self._session_factory = session_factory
        self._ledger = ledger
        self._clock = clock

    # -- archiving, called by the archiver consumer for each dead-lettered delivery --

    def archive_delivery(self, delivery: Delivery, *, carries_dramatiq_messages: bool) -> None:
        """Archive one dead-lettered delivery, then ack it. ``carries_dramatiq_messages``: its
        work queue holds Dramatiq messages, so a body that does not decode is "undecodable"."""
        headers = _jsonable(delivery.headers)
        deaths = headers.get("x-death") or [{}]
        origin_queue = deaths[0].get("queue") or delivery.method.routing_key.removesuffix(".XQ")
        fingerprint = hashlib.sha256(
            delivery.body + json.dumps(headers, sort_keys=True, default=str).encode()
        ).hexdigest()
        values = {
            "fingerprint": fingerprint,
            "queue_name": q_name(origin_queue),
            "body": delivery.body,
            "headers": headers,
            "dead_at": self._clock.now(),
            "correlation_id": delivery.properties.correlation_id,
            "reason": headers.get(REASON_HEADER) or deaths[0].get("reason") or "rejected",
            "last_error": headers.get(ERROR_HEADER),
            "attempts": 0,
        }
        described = self._describe_dramatiq_message(delivery.body)
        if carries_dramatiq_messages and not described and REASON_HEADER not in headers:
            values["reason"] = "undecodable"
        values.update(described)
        with unit_of_work(self._session_factory) as session:
            archived = insert_ignoring_conflicts(session, DeadLetter.__table__, values)
        if archived and values.get("job_id"):
            # Usually the ledger middleware said so already; not for an unknown actor, say.
            self._ledger.dead(values["job_id"], values["reason"], values.get("last_error"))
        logger.warning(
            "dead letter archived",
            extra={"job_id": values.get("job_id"), "queue": values["queue_name"], "reason": values["reason"]},
        )
        delivery.ack()

    def _describe_dramatiq_message(self, body: bytes) -> dict:
        try:
            message = dramatiq.Message.decode(body)
        except DecodeError:
            return {}
        described = {
            "job_id": message.message_id,
            "actor_name": message.actor_name,
            "type": message.actor_name,
            "traceback": message.options.get("traceback"),
            "last_error": _last_line(message.options.get("traceback")),
            "attempts": message.options.get("retries", 0),
            "correlation_id": message.options.get("correlation_id"),
        }
        job = self._ledger.get(message.message_id)
        if job is not None:
            described.update(type=job.type, attempts=job.attempts, last_error=job.last_error or described["last_error"])
            if job.reason:
                described["reason"] = job.reason
        return described

    # -- what operators do --

    def count(self) -> int:
        with self._session_factory() as session:
            return session.scalar(select(func.count()).select_from(DeadLetter))

    def list_page(self, *, limit: int = 100, offset: int = 0) -> tuple[int, list[DeadLetterView]]:
        count = self.count()
        with self._session_factory() as session:
            rows = session.scalars(
                select(DeadLetter).order_by(DeadLetter.dead_at.desc(), DeadLetter.id.desc()).limit(limit).offset(offset)
            )
            return count, [DeadLetterView.of(row) for row in rows]

    def replay(self, dead_letter_id: int, publish: Callable[[str, bytes], None]) -> DeadLetterView | None:
        """Send a dead letter back to its queue as a fresh message, and forget it here."""
        with unit_of_work(self._session_factory) as session:
            row = session.get(DeadLetter, dead_letter_id, with_for_update=True)
            if row is None:
                return None
            view = DeadLetterView.of(row)
            if row.job_id:
                self._ledger.requeue_for_replay(session, row.job_id)
            session.delete(row)
            session.flush()
            # Published last: if RabbitMQ refuses, the transaction rolls back and nothing is lost.
            publish(row.queue_name, fresh_body(row.body))
        logger.info("dead letter replayed", extra={"job_id": view.job_id, "queue": view.queue_name})
        return view

    def purge(self, dead_letter_ids: list[int] | None = None) -> int:
        """Delete the given dead letters, or all of them."""
        with unit_of_work(self._session_factory) as session:
            statement = delete(DeadLetter)
            if dead_letter_ids is not None:
                statement = statement.where(DeadLetter.id.in_(dead_letter_ids))
            return session.execute(statement).rowcount


def fresh_body(body: bytes) -> bytes:
    """A Dramatiq message with its retry state dropped; any other body as it was."""
    try:
        message = dramatiq.Message.decode(body)
    except DecodeError:
        return body
    options = {k: v for k, v in message.options.items() if k not in RETRY_STATE_OPTIONS}
    # A new timestamp too: AgeLimit would otherwise expire a replay of an old dead letter at once.
    return dataclasses.replace(
        message, queue_name=q_name(message.queue_name), options=options, message_timestamp=int(time.time() * 1000)
    ).encode()
