"""The sign-in history: who signed in, when, from where, with what."""

from services.auth_events.tables import SignInRecord
from shared.clock import Clock
from shared.jobs.intake import KeptRow
from shared.schemas import UserSignedInV1


class SignInHistory:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def row(self, event: UserSignedInV1, *, received_via: str) -> KeptRow:
        """The record of ``event``, kept with its alert job (see ``JobIntake.accept``)."""
        return (
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
