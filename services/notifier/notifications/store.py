"""notifications' repository: accepted notifications (their text, in-app and digest state)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from services.notifier.notifications.model import RenderedNotification
from services.notifier.tables import DIGEST_PENDING, Notification
from shared.clock import Clock
from shared.db import insert_ignoring_conflicts
from shared.jobs.intake import KeptRow
from shared.schemas import NotificationRequestedV1


@dataclass(frozen=True)
class InboxPage:
    count: int
    unread_count: int
    items: list[Notification]


class NotificationStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def add(self, session: Session, job_id: str, request: NotificationRequestedV1, rendered: RenderedNotification) -> bool:
        """Keep the accepted request under its job id; False when it is kept already."""
        return insert_ignoring_conflicts(session, *self.row(job_id, request, rendered))

    def row(self, job_id: str, request: NotificationRequestedV1, rendered: RenderedNotification) -> KeptRow:
        """The notification's row, as ``add`` keeps it (and ``JobIntake.accept`` at intake)."""
        return (
            Notification.__table__,
            {
                "id": job_id,
                "event_id": request.event_id,
                "user_id": request.recipient.user_id,
                "category": request.category,
                "template": request.template,
                "priority": request.priority,
                "delivery": request.delivery,
                "locale": rendered.locale,
                "title": rendered.title,
                "body": rendered.body,
                "data": request.data,
                "created_at": self._clock.now(),
                "in_app": False,
                "read_at": None,
                "digest_state": None,
            },
        )

    def show_in_app(self, session: Session, job_id: str) -> None:
        session.execute(update(Notification).where(Notification.id == job_id).values(in_app=True))

    def await_digest(self, session: Session, job_id: str) -> None:
        """Leave the notification for the next digest, unless a digest has already taken it."""
        session.execute(
            update(Notification)
            .where(Notification.id == job_id, Notification.digest_state.is_(None))
            .values(digest_state=DIGEST_PENDING)
        )

    # -- the in-app inbox --

    def inbox(self, session: Session, user_id: str, *, unread_only: bool, limit: int, offset: int) -> InboxPage:
        """A page of the user's in-app notifications, newest first; ``count`` is of the filtered list."""
        shown = and_(Notification.user_id == user_id, Notification.in_app.is_(True))
        unread = and_(shown, Notification.read_at.is_(None))
        listed = unread if unread_only else shown
        # One query for both counts: the listed ones less those read (none, when only unread are listed).
        count, read_count = session.execute(
            select(func.count(), func.count(Notification.read_at)).select_from(Notification).where(listed)
        ).one()
        items = session.scalars(
            select(Notification)
            .where(listed)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return InboxPage(count, count - read_count, list(items))

    def mark_read(self, session: Session, user_id: str, notification_id: str) -> datetime | None:
        """Mark one of the user's in-app notifications read; its read time (the first one stays),
        or None when the user has no such notification."""
        theirs = and_(Notification.id == notification_id, Notification.user_id == user_id, Notification.in_app.is_(True))
        # Conditional, so that of two concurrent calls the first read time stays.
        session.execute(
            update(Notification).where(theirs, Notification.read_at.is_(None)).values(read_at=self._clock.now())
        )
        return session.scalar(select(Notification.read_at).where(theirs))

    def mark_all_read(self, session: Session, user_id: str) -> int:
        return session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.in_app.is_(True), Notification.read_at.is_(None))
            .values(read_at=self._clock.now())
        ).rowcount
