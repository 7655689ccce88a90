"""Emitting ``maintenance.<task>.due``: the scheduler says when; the owner of the data does it."""

import logging
from datetime import datetime

from services.scheduler.recurring.schedules import RecurringSchedule, scheduled_minute
from shared.amqp.event_publisher import RawPublisher
from shared.clock import Clock
from shared.schemas import MaintenanceDueV1
from shared.topology import SCHEDULER_EXCHANGE

logger = logging.getLogger("herald.scheduler.maintenance")


def maintenance_event(schedule: RecurringSchedule, scheduled_for: datetime, now: datetime) -> MaintenanceDueV1:
    task_key = schedule.task if schedule.period is None else f"{schedule.task}:{schedule.period}"
    return MaintenanceDueV1(
        event_id=f"maintenance:{task_key}:{scheduled_for.strftime('%Y-%m-%dT%H:%MZ')}",
        type="maintenance.due",
        version=1,
        occurred_at=now,
        task=schedule.task,
        period=schedule.period,
        scheduled_for=scheduled_for,
    )


class MaintenanceEmitter:
    def __init__(self, publisher: RawPublisher, clock: Clock) -> None:
        self._publisher = publisher
        self._clock = clock

    def emit(self, schedule: RecurringSchedule) -> MaintenanceDueV1:
        """Emit the run of ``schedule`` that is firing now (confirmed by RabbitMQ)."""
        now = self._clock.now()
        event = maintenance_event(schedule, scheduled_minute(now), now)
        self._publisher.publish(
            SCHEDULER_EXCHANGE, schedule.emits, event.model_dump_json().encode(), message_id=event.event_id
        )
        logger.info("maintenance due", extra={"schedule": schedule.name, "event_id": event.event_id})
        return event
