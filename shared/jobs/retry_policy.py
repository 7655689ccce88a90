"""Exact backoff schedules for actors.

Dramatiq's own backoff is jittered upward (``min_backoff * 2**n * uniform(1, 2)``); Herald's
contract names exact delays, so an actor turns a ``TransientError`` into ``dramatiq.Retry`` with
the scheduled delay, or longer when the other side asked for more (HTTP Retry-After).
A ``PermanentError`` passes through: the actor declares it in ``throws`` and it dies at once.
Any other failure (a bug, an ``OverflowError`` on an absurd date, a time limit) is put on the
same schedule by ``shared.middleware.scheduled_retries``, from the actor's ``backoff`` option.
"""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dramatiq
from dramatiq.middleware import CurrentMessage
from sqlalchemy.exc import OperationalError

from shared.errors import TransientError

#: The longest a retry is put off, whatever the other side asks: a worker holds a delayed
#: message unacked until it is due, and RabbitMQ takes back a delivery left unacked for its
#: ``consumer_timeout`` (30 min by default; DRAMATIQ-NOTES).
MAX_REQUESTED_DELAY_MS = 15 * 60 * 1000


@dataclass(frozen=True)
class BackoffSchedule:
    #: Delay before each retry, in milliseconds; its length is the number of retries.
    delays_ms: tuple[int, ...]

    @property
    def max_retries(self) -> int:
        return len(self.delays_ms)

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def delay_ms(self, retries_so_far: int, retry_after_s: float | None = None) -> int:
        scheduled = self.delays_ms[max(0, min(retries_so_far, len(self.delays_ms) - 1))]
        return max(scheduled, requested_delay_ms(retry_after_s))


def requested_delay_ms(retry_after_s: float | None) -> int:
    """A Retry-After in milliseconds, bounded: a date far in the future (or an infinite one)
    must neither overflow nor park a message for years."""
    if not retry_after_s or math.isnan(retry_after_s) or retry_after_s <= 0:
        return 0
    return int(min(retry_after_s * 1000, MAX_REQUESTED_DELAY_MS))


#: Sign-in alerts: 5 attempts, now then +2 s, +4 s, +8 s, +16 s (DESIGN §3).
SIGNIN_ALERT_BACKOFF = BackoffSchedule((2_000, 4_000, 8_000, 16_000))
#: Other notifier work (notifications, digests, maintenance): the same exponential schedule,
#: stretched, since none of it is as urgent as a security alert.
DEFAULT_BACKOFF = BackoffSchedule((5_000, 20_000, 80_000, 320_000))


@contextmanager
def retry_on_schedule(schedule: BackoffSchedule) -> Iterator[None]:
    """Retry transient failures on ``schedule``; a database that cannot be reached is one too."""
    try:
        yield
    except (TransientError, OperationalError) as error:
        message = CurrentMessage.get_current_message()
        retries_so_far = message.options.get("retries", 0) if message else 0
        retry_after = error.retry_after if isinstance(error, TransientError) else None
        raise dramatiq.Retry(str(error)[:500], delay=schedule.delay_ms(retries_so_far, retry_after)) from error
