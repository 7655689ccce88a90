"""What maintenance tasks are given, and what each gives back."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from services.notifier.email.message import EmailSender
from shared.clock import Clock
from shared.jobs.retention import PlatformRetention


@dataclass(frozen=True)
class RetentionPolicy(PlatformRetention):
    """The platform's tables' ages (jobs, dead letters, rate-limit hits, the batch size) and
    notifier's own."""

    #: Notifications, their outcomes, the email delivery log, digest deliveries, maintenance runs.
    notifications_days: int = 90
    #: Notifications still unread in the inbox or waiting for a digest: kept longer, not forever.
    undelivered_notifications_days: int = 365


@dataclass(frozen=True)
class WatchdogPolicy:
    threshold: int = 10
    repeat_hours: int = 24
    #: Empty: the alert is only logged.
    admin_email: str = ""
    from_header: str = "Herald <no-reply@localhost>"
    product_name: str = "Herald"


@dataclass
class MaintenanceDeps:
    session_factory: sessionmaker[Session]
    clock: Clock
    email_sender: EmailSender
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    watchdog: WatchdogPolicy = field(default_factory=WatchdogPolicy)


@dataclass(frozen=True)
class TaskResult:
    rows: int = 0
    details: dict = field(default_factory=dict)
    period: str | None = None
    period_start: datetime | None = None
    error: str | None = None
