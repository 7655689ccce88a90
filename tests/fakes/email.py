"""An in-memory ``EmailSender`` for tests that care what was sent, not how."""

import threading
from collections import deque

from services.notifier.email.message import OutgoingEmail


class RecordingEmailSender:
    name = "recording"

    def __init__(self) -> None:
        #: Every email handed to ``send``, in order, including those it was told to fail.
        self.sent: list[OutgoingEmail] = []
        self.closed = False
        self._delivered: list[OutgoingEmail] = []
        self._planned_failures: deque[Exception] = deque()
        # Workers call send from several threads.
        self._lock = threading.Lock()

    def fail_next(self, error: Exception, times: int = 1) -> None:
        """Make the next ``times`` sends raise ``error`` (after recording the email)."""
        with self._lock:
            self._planned_failures.extend([error] * times)

    def send(self, email: OutgoingEmail) -> str | None:
        with self._lock:
            self.sent.append(email)
            if self._planned_failures:
                raise self._planned_failures.popleft()
            self._delivered.append(email)
        return f"recorded-{email.idempotency_key}"

    @property
    def delivered(self) -> list[OutgoingEmail]:
        """The emails whose send did not fail, which is what a real sink would hold."""
        with self._lock:
            return list(self._delivered)

    def close(self) -> None:
        self.closed = True
