from shared.settings import PlatformSettings


class AuthEventsSettings(PlatformSettings):
    auth_events_port: int = 8001
