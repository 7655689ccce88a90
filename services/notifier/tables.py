"""notifier's own data: the delivery log that makes "one event, one email" hold, notifications,
preferences, digests, statistics and maintenance runs."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UtcDateTime


class EmailDelivery(Base):
    __tablename__ = "email_deliveries"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    transport: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)


#: ``Notification.digest_state`` of one waiting for the next digest (notifications, digests and
#: retention all read it, so it lives with the table).
DIGEST_PENDING = "pending"


class Notification(Base):
    """One accepted notification request: its rendered text, its in-app state, its digest state."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_user_digest_state", "user_id", "digest_state"),
    )

    #: The request's job id: one notification per event_id.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(8))
    delivery: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: Shown in the user's in-app inbox (the request named the in_app channel and it was allowed).
    in_app: Mapped[bool] = mapped_column(Boolean, default=False)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: None: not for a digest; "pending": waits for the next digest; "digested": sent in one.
    digest_state: Mapped[str | None] = mapped_column(String(16))
    digested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    digest_period_key: Mapped[str | None] = mapped_column(String(100))


class NotificationPreferences(Base):
    """What a user lets through: everything, nothing (muted), or all but some category/channel pairs.

    Security notifications ignore both: they cannot be muted.
    """

    __tablename__ = "notification_preferences"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ``[{"category": "comments", "channel": "email"}, ...]``
    opt_outs: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NotificationOutcome(Base):
    """What became of one job on one channel: the facts the statistics roll up."""

    __tablename__ = "notification_outcomes"
    __table_args__ = (UniqueConstraint("job_id", "channel", name="uq_notification_outcomes_job_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))  # sent | skipped | failed
    reason: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class DigestDelivery(Base):
    """One schedule's digest for one period, at most once: the period key makes digest.due idempotent."""

    __tablename__ = "digest_deliveries"

    schedule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    job_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # sent | muted | opted_out | failed
    items: Mapped[int] = mapped_column(Integer, default=0)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    delivered_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class NotificationStat(Base):
    """Notification statistics per period: sent, failed and skipped, by channel and category."""

    __tablename__ = "notification_stats"

    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # hourly | daily | weekly | monthly
    period_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MaintenanceRun(Base):
    """Every maintenance run: what it did, when, for how long, how many rows, and what went wrong."""

    __tablename__ = "maintenance_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    task: Mapped[str] = mapped_column(String(32))  # retention | rollup | dead_letter_watchdog
    period: Mapped[str | None] = mapped_column(String(8))
    period_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
