"""The sign-in history: who signed in, when, from where, with what."""

from sqlalchemy.orm import Session

from services.auth_events.tables import SignInRecord
from shared.clock import Clock
from shared.db import insert_ignoring_conflicts
from shared.schemas import UserSignedInV1


class SignInHistory:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def record(self, session: Session, event: UserSignedInV1, *, received_via: str) -> None:
        insert_ignoring_conflicts(
            session,
            SignInRecord.__table__,
            {
                "event_id": event.event_id,
                "user_id": event.user.id,
                "occurred_at": event.occurred_at,
                "ip_address": str(event.context.ip_address),
                "user_agent": event.context.user_agent,
                "provider": event.context.provider,
                "received_via": received_via,
                "received_at": self._clock.now(),
            },
        )
