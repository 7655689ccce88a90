"""Users' notification preferences: one row per user who has set any. Read by every capability
that decides whether to send (notifications, digests), so it sits beside them, not in one."""

import functools

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from services.notifier.preferences.model import DEFAULT_PREFERENCES, Preferences
from services.notifier.tables import NotificationPreferences
from shared.clock import Clock
from shared.db import dialect_insert


class PreferenceStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def get(self, session: Session, user_id: str) -> Preferences:
        row = session.execute(_BY_USER, {"p_user_id": user_id}).first()
        if row is None:
            return DEFAULT_PREFERENCES
        return Preferences(
            muted=row.muted,
            opt_outs=frozenset((item["category"], item["channel"]) for item in row.opt_outs or []),
        )

    def put(self, session: Session, user_id: str, preferences: Preferences) -> None:
        """Replace the user's preferences (an upsert, so two writers at once cannot collide)."""
        values = {
            "user_id": user_id,
            "muted": preferences.muted,
            "opt_outs": [{"category": category, "channel": channel} for category, channel in sorted(preferences.opt_outs)],
            "updated_at": self._clock.now(),
        }
        session.execute(_upsert(session.get_bind().dialect.name), values)


_BY_USER = select(NotificationPreferences.muted, NotificationPreferences.opt_outs).where(
    NotificationPreferences.user_id == bindparam("p_user_id")
)


@functools.cache
def _upsert(dialect: str):
    statement = dialect_insert(dialect)(NotificationPreferences.__table__)
    return statement.on_conflict_do_update(
        index_elements=["user_id"],
        set_={column: statement.excluded[column] for column in ("muted", "opt_outs", "updated_at")},
    )
