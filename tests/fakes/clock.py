from datetime import datetime, timedelta, timezone


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 23, 8, 15, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)
