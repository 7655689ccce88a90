"""The dead-letter archive: what RabbitMQ dead-lettered, kept until an operator acts on it.

Every work queue dead-letters into its ``.XQ`` queue; an archiver consumes those queues and
writes each dead letter here with its reason, last error, traceback, attempts and correlation
id, so nothing vanishes when the queue's TTL passes. From here a dead letter can be listed,
replayed to its queue with its retry count reset, or purged.

Every dead letter is its own row, whatever its bytes and headers look like: two poison messages
that are byte for byte the same are two rows. What makes a row is the delivery's identity
(``delivery_key``): the dead-letter id a Herald consumer stamps on what it dead-letters itself
(``DEAD_LETTER_ID_HEADER``), which survives redeliveries, so a redelivery of it is stored once;
or, for what RabbitMQ dead-lettered on its own (Dramatiq's failed messages), a fresh id at first
sight. A delivery is acked only once its row is committed, so nothing is lost; the one duplicate
possible is a Dramatiq dead letter redelivered after the archiver died between its commit and
its ack.
"""

import dataclasses
import hashlib
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import dramatiq
from dramatiq.common import q_name
from dramatiq.errors import DecodeError
from sqlalchemy import JSON, Integer, LargeBinary, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from shared.amqp.consumer import DEAD_LETTER_ID_HEADER, ERROR_HEADER, MAX_ERROR_CHARS, REASON_HEADER, Delivery
from shared.clock import Clock
from shared.db import Base, UtcDateTime, insert_ignoring_conflicts, unit_of_work
from shared.jobs.ledger import JobLedger

logger = logging.getLogger("herald.dead_letters")

__all__ = ["DEAD_LETTER_ID_HEADER", "ERROR_HEADER", "REASON_HEADER", "DeadLetter", "DeadLetterArchive"]

#: Options a replay strips so the message starts over (DRAMATIQ-NOTES: "Retries").
RETRY_STATE_OPTIONS = ("retries", "traceback", "requeue_timestamp", "eta")


class DeadLetter(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # One row per dead letter, however often the archiver sees the same delivery of it.
    delivery_key: Mapped[str] = mapped_column(String(64), unique=True)
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The AMQP message id a foreign producer gave its message, if any.
    message_id: Mapped[str | None] = mapped_column(String(255))
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
    message_id: str | None
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


def _storable(text: str) -> str:
    # PostgreSQL refuses NUL in text; a poison message may well carry one.
    return text.replace("\x00", "\ufffd")


def _jsonable(value):
    """AMQP headers hold bytes and datetimes; keep them storable as JSON."""
    if isinstance(value, dict):
        return {_storable(str(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return _storable(value.decode("utf-8", "replace"))
    if isinstance(value, str):
        return _storable(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and infinities are not JSON: PostgreSQL refuses them
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _storable(str(value))  # a Decimal, say: AMQP has types JSON has not


def _attempts(retries) -> int:
    """Dramatiq's retry count, if it is one a column can hold; else 0."""
    if isinstance(retries, int) and not isinstance(retries, bool) and 0 <= retries < 2**31:
        return retries
    return 0


def _text(value, limit: int) -> str | None:
    """A header or property a producer chose, made to fit its column."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return _storable(str(value))[:limit]


def _last_line(text: str | None) -> str | None:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else None


def describe_delivery(delivery: Delivery, dead_at: datetime) -> dict:
    """What any dead letter says about itself: its origin, why it died, its identity."""
    headers = _jsonable(delivery.headers)
    deaths = headers.get("x-death")
    # A producer may set any header, x-death too: read it only if it has RabbitMQ's shape.
    last_death = deaths[0] if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict) else {}
    origin_queue = q_name(str(last_death.get("queue") or delivery.method.routing_key.removesuffix(".XQ")))
    return {
        "delivery_key": delivery_key(origin_queue, headers.get(DEAD_LETTER_ID_HEADER)),
        "queue_name": origin_queue[:255],
        "message_id": _text(delivery.properties.message_id, 255),
        "body": delivery.body,
        "headers": headers,
        "dead_at": dead_at,
        "correlation_id": _text(delivery.properties.correlation_id, 64),
        "reason": _text(headers.get(REASON_HEADER) or last_death.get("reason") or "rejected", 64),
        "last_error": _text(headers.get(ERROR_HEADER), MAX_ERROR_CHARS),
        "attempts": 0,
    }


class DeadLetterArchive:
    def __init__(self, session_factory: sessionmaker[Session], ledger: JobLedger, clock: Clock) -> None:
        self._session_factory = session_factory
        self._ledger = ledger
        self._clock = clock

    # -- archiving, called by the archiver consumer for each dead-lettered delivery --

    def archive_delivery(self, delivery: Delivery, *, carries_dramatiq_messages: bool) -> None:
        """Archive one dead-lettered delivery, then ack it. ``carries_dramatiq_messages``: its
        work queue holds Dramatiq messages, so a body that does not decode is "undecodable"."""
        values = describe_delivery(delivery, self._clock.now())
        if carries_dramatiq_messages:
            described = self._describe_dramatiq_message(delivery.body)
            if not described and REASON_HEADER not in delivery.headers:
                values["reason"] = "undecodable"
            values.update(described)
        if values.get("job_id"):
            # Usually the ledger middleware said so already; not for an unknown actor, say.
            # Before the insert, so that nothing but the ack follows the commit.
            self._ledger.dead(values["job_id"], values["reason"], values.get("last_error"))
        with unit_of_work(self._session_factory) as session:
            archived = insert_ignoring_conflicts(session, DeadLetter.__table__, values)
        logger.warning(
            "dead letter archived" if archived else "dead letter redelivered; archived already",
            extra={"job_id": values.get("job_id"), "queue": values["queue_name"], "reason": values["reason"]},
        )
        delivery.ack()

    def _describe_dramatiq_message(self, body: bytes) -> dict:
        try:
            message = dramatiq.Message.decode(body)
        except DecodeError:
            return {}
        if not isinstance(message.options, dict):  # Dramatiq-shaped, but not Dramatiq's
            return {}
        traceback = _text(message.options.get("traceback"), 100_000)
        described = {
            "job_id": _text(message.message_id, 64),
            "actor_name": _text(message.actor_name, 255),
            "type": _text(message.actor_name, 64),
            "traceback": traceback,
            "last_error": _last_line(traceback),
            "attempts": _attempts(message.options.get("retries")),
            "correlation_id": _text(message.options.get("correlation_id"), 64),
        }
        job = self._ledger.get(described["job_id"])
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


def delivery_key(origin_queue: str, dead_letter_id: str | None) -> str:
    """The identity of one dead letter: the id a Herald consumer stamped on it, which every
    redelivery carries; without one (RabbitMQ dead-lettered it), a fresh id."""
    identity = f"{origin_queue}\n{dead_letter_id}" if dead_letter_id else f"unstamped\n{uuid.uuid4()}"
    return hashlib.sha256(identity.encode()).hexdigest()


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
