"""The consumer of ``notifier.scheduled``: the scheduler's events, turned into notifier's jobs.

``digest.due`` carries a batch of due digests: one SEND_DIGESTS job per batch (the batch id is
the idempotency key). ``maintenance.<task>.due``: one RUN_MAINTENANCE job per event id, so two
schedulers firing the same run make one job. Anything else is dead-lettered with its reason.
"""

from dataclasses import dataclass
from typing import get_args

from shared.amqp.consumer import Delivery
from shared.amqp.event_consumer import Count, dead_letter_with_reason, event_handler
from shared.jobs.intake import Acceptance, JobIntake
from shared.schemas.scheduler import DigestsDueV1, MaintenanceDueV1, MaintenanceTask, RunMaintenanceV1, SendDigestsV1
from shared.topology import DIGEST_DUE_KEY, RUN_MAINTENANCE, SEND_DIGESTS, maintenance_key


@dataclass
class ScheduledEventsDeps:
    intake: JobIntake


def accept_digests_due(batch: DigestsDueV1, deps: ScheduledEventsDeps) -> Acceptance:
    return deps.intake.accept(
        SEND_DIGESTS,
        event_id=batch.batch_id,
        payload_for_job=lambda job_id: SendDigestsV1(job_id=job_id, batch=batch).model_dump(mode="json"),
    )


def accept_maintenance_due(due: MaintenanceDueV1, deps: ScheduledEventsDeps) -> Acceptance:
    return deps.intake.accept(
        RUN_MAINTENANCE,
        event_id=due.event_id,
        payload_for_job=lambda job_id: RunMaintenanceV1(job_id=job_id, due=due).model_dump(mode="json"),
    )


def scheduled_events_handler(deps: ScheduledEventsDeps, count: Count = lambda via, outcome: None):
    """A ``QueueConsumer`` handler that dispatches on the delivery's routing key."""
    digests = event_handler(DigestsDueV1, lambda batch: accept_digests_due(batch, deps), count)
    maintenance = event_handler(MaintenanceDueV1, lambda due: accept_maintenance_due(due, deps), count)
    maintenance_keys = {maintenance_key(task) for task in get_args(MaintenanceTask)}

    def handle(delivery: Delivery) -> None:
        routing_key = delivery.method.routing_key
        if routing_key == DIGEST_DUE_KEY:
            digests(delivery)
        elif routing_key in maintenance_keys:
            maintenance(delivery)
        else:
            dead_letter_with_reason(delivery, "unknown_event", f"no handler for routing key {routing_key!r}")
            count("amqp", "invalid")

    return handle
