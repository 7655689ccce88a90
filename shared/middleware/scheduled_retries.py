"""Retries every failure on the actor's own schedule, not on Dramatiq's default one.

Dramatiq's ``Retries`` gives any exception that is not a ``dramatiq.Retry`` with a delay its own
jittered backoff (15-30 s, 30-60 s, ...). Herald's actors name exact schedules (DESIGN §3) and
``retry_on_schedule`` covers the failures an actor expects; an unexpected one (a bug, an
``OverflowError`` from a date near the end of time, a time limit, a validator that raises
something odd) must follow the same schedule and then die. An actor declares the ``backoff``
option (its ``ActorRoute.backoff``, with ``max_retries`` from the same schedule); this middleware
turns any failure it does not ``throw`` into a ``Retry`` with the delay that schedule gives.
Retries still count against ``max_retries``.
"""

import dramatiq
from dramatiq.middleware import Retries

from shared.errors import TransientError
from shared.jobs.retry_policy import scheduled_delay_ms
from shared.topology import BackoffSchedule


class ScheduledRetries(Retries):
    @property
    def actor_options(self):
        return super().actor_options | {"backoff"}

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is not None:
            exception = self._on_schedule(broker, message, exception)
        super().after_process_message(broker, message, result=result, exception=exception)

    def _on_schedule(self, broker, message, exception: BaseException) -> BaseException:
        if isinstance(exception, dramatiq.Retry) and exception.delay is not None:
            return exception  # the actor chose its delay already
        actor = broker.get_actor(message.actor_name)
        schedule: BackoffSchedule | None = actor.options.get("backoff")
        throws = message.options.get("throws") or actor.options.get("throws")
        if schedule is None or (throws and isinstance(exception, throws)):
            return exception
        retry_after = exception.retry_after if isinstance(exception, TransientError) else None
        delay = scheduled_delay_ms(schedule, message.options.get("retries", 0), retry_after)
        # Retries records the traceback of the exception being handled: the original one.
        return dramatiq.Retry(f"{type(exception).__name__}: {exception}"[:500], delay=delay)
