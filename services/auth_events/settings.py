from pydantic import Field

from shared.settings import PlatformSettings, Port


class AuthEventsSettings(PlatformSettings):
    auth_events_port: Port = 8001
    #: Processes ``herald up`` starts, sharing the port (SO_REUSEPORT) and the queues. One Python
    #: process uses one core at most: under load, give it as many as there are cores.
    auth_events_processes: int = Field(default=1, ge=1)
    #: Days the sign-in history is kept; older records go at each retention run.
    retention_signin_history_days: int = Field(default=90, ge=1)

    @property
    def processes(self) -> int:
        return self.auth_events_processes
