"""The two kinds of failure every Herald job distinguishes.

An actor lets a ``TransientError`` become a scheduled retry and a ``PermanentError`` a dead
letter at once (see ``shared.jobs.retry_policy``). Adapters translate their own failures into these.
"""


class TransientError(Exception):
    """Worth trying again later: a timeout, a 5xx, a 429, a refused connection."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        #: Seconds the other side asked us to wait (HTTP Retry-After), if it said.
        self.retry_after = retry_after


class PermanentError(Exception):
    """Trying again cannot help: a rejected address, a 4xx other than 429, a malformed message."""
