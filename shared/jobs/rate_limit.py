"""A sliding-window rate limit kept in the database, safe across processes.

Each allowed unit of work leaves a hit (keyed by a token, e.g. the job id, so a redelivered job
is not counted twice). Counting and inserting happen under a per-key lock: a transaction-scoped
advisory lock on PostgreSQL, the database write lock on SQLite (``BEGIN IMMEDIATE``, see
``shared.db``).
"""

from datetime import datetime, timedelta

from sqlalchemy import Index, String, bindparam, case, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.clock import Clock
from shared.db import Base, UtcDateTime


class RateLimitHit(Base):
    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"),)

    token: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class SlidingWindowLimit:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def acquire(self, session: Session, *, key: str, token: str, limit: int, window: timedelta) -> bool:
        """Take one of ``limit`` slots per ``window`` for ``key``; True when allowed (or already held)."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(_LOCK_KEY_POSTGRESQL, {"p_key": key})
        # SQLite: the transaction began with BEGIN IMMEDIATE and already holds the write lock.
        now = self._clock.now()
        used, already_held = session.execute(
            _COUNT_HITS, {"p_key": key, "p_token": token, "p_since": now - window}
        ).one()
        if already_held:
            return True
        if used >= limit:
            return False
        session.execute(_INSERT_HIT, {"token": token, "key": key, "at": now})
        return True

    def release(self, session: Session, token: str) -> None:
        """Give a slot back: the work it was taken for will not happen."""
        session.execute(delete(_hits).where(_hits.c.token == token))


# Built once: on the path of every alert, and building costs more CPU than running. On the
# Table, not the mapped class, which would take them through the ORM for nothing.
_hits = RateLimitHit.__table__
_LOCK_KEY_POSTGRESQL = select(func.pg_advisory_xact_lock(func.hashtext(bindparam("p_key", type_=String()))))
_COUNT_HITS = select(
    func.count(case((_hits.c.at > bindparam("p_since", type_=UtcDateTime()), 1))),
    func.coalesce(func.max(case((_hits.c.token == bindparam("p_token"), 1), else_=0)), 0),
).where(_hits.c.key == bindparam("p_key"))
_INSERT_HIT = insert(_hits)
