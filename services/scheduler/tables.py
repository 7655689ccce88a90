"""scheduler's own data: digest schedules."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UtcDateTime


class DigestSchedule(Base):
    """When a user's digest is due, in their own time zone.

    ``next_run_at`` is NULL for an inactive schedule, so the due scan's index on it holds only
    schedules that can come due: the scan's cost follows the due schedules, not all of them.
    """

    __tablename__ = "digest_schedules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str | None] = mapped_column(String(8))
    frequency: Mapped[str] = mapped_column(String(8))  # daily | weekly | monthly
    delivery_time: Mapped[str] = mapped_column(String(5))  # HH:MM, local
    delivery_day: Mapped[int | None] = mapped_column(SmallInteger)  # 1-7 weekly (Monday 1), 1-31 monthly
    timezone: Mapped[str] = mapped_column(String(64))
    max_items: Mapped[int] = mapped_column(Integer)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_period_key: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
