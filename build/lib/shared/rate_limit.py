"""A sliding-window rate limit kept in the database, safe across processes.

Each allowed unit of work leaves a hit (keyed by a token, e.g. the job id, so a redelivered job
is not counted twice). Counting and inserting happen under a per-key lock: a row lock on
PostgreSQL, the database write lock on SQLite (``BEGIN IMMEDIATE``, see ``shared.db``).
"""

from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.clock import Clock
from shared.db import Base, UtcDateTime, insert_ignoring_conflicts


class RateLimitLock(Base):
    __tablename__ = "rate_limit_locks"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)


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
        insert_ignoring_conflicts(session, RateLimitLock.__table__, {"key": key})
        session.execute(select(RateLimitLock.key).where(RateLimitLock.key == key).with_for_update())
        if session.get(RateLimitHit, token) is not None:
            return True
        now = self._clock.now()
        used = session.scalar(
            select(func.count()).select_from(RateLimitHit).where(RateLimitHit.key == key, RateLimitHit.at > now - window)
        )
        if used >= limit:
            return False
        session.add(RateLimitHit(token=token, key=key, at=now))
        session.flush()
        return True

    def forget_before(self, session: Session, cutoff: datetime) -> int:
        """Drop hits too old to count in any window (maintenance)."""
        return session.execute(delete(RateLimitHit).where(RateLimitHit.at < cutoff)).rowcount
