from shared.settings import PlatformSettings


class SchedulerSettings(PlatformSettings):
    scheduler_port: int = 8003
