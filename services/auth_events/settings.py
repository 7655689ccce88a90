from pydantic import Field

from shared.settings import PlatformSettings


class AuthEventsSettings(PlatformSettings):
    auth_events_port: int = 8001
    #: Days the sign-in history is kept; older records go at each retention run.
    retention_signin_history_days: int = Field(default=90, ge=1)
