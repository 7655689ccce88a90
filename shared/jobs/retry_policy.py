"""Retrying on an actor's exact schedule (declared in its ``shared.topology.ActorRoute``).

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

import dramatiq
from dramatiq.middleware import CurrentMessage
from sqlalchemy.exc import OperationalError

from shared.errors import TransientError
from shared.topology import BackoffSchedule

#: The longest a retry is put off, whatever the other side asks: a worker holds a delayed
#: message unacked until it is due, and RabbitMQ takes back a delivery left unacked for its
#: ``consumer_timeout`` (30 min by default; DRAMATIQ-NOTES).
MAX_REQUESTED_DELAY_MS = 15 * 60 * 1000


def scheduled_delay_ms(schedule: BackoffSchedule, retries_so_far: int, retry_after_s: float | None = None) -> int:
    """The delay before the next retry: the schedule's, or what the other side asked if longer."""
    scheduled = schedule.delays_ms[max(0, min(retries_so_far, len(schedule.delays_ms) - 1))]
    return max(scheduled, requested_delay_ms(retry_after_s))


def requested_delay_ms(retry_after_s: float | None) -> int:
    """A Retry-After in milliseconds, bounded: a date far in the future (or an infinite one)
    must neither overflow nor park a message for years."""
    if not retry_after_s or math.isnan(retry_after_s) or retry_after_s <= 0:
        return 0
    return int(min(retry_after_s * 1000, MAX_REQUESTED_DELAY_MS))


@contextmanager
def retry_on_schedule(schedule: BackoffSchedule) -> Iterator[None]:
    """Retry transient failures on ``schedule``; a database that cannot be reached is one too."""
    try:
        yield
    except (TransientError, OperationalError) as error:
        message = CurrentMessage.get_current_message()
        retries_so_far = message.options.get("retries", 0) if message else 0
        retry_after = error.retry_after if isinstance(error, TransientError) else None
        raise dramatiq.Retry(str(error)[:500], delay=scheduled_delay_ms(schedule, retries_so_far, retry_after)) from error
