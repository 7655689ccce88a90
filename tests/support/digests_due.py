"""What the scheduler's due scan reads and writes, seen from a test: schedule rows already due,
and a queue of the test's own that catches the ``digest.due`` batches the scan emits; and the
``send_digests`` command that such a batch becomes in notifier."""

from contextlib import closing
from datetime import datetime, timezone

import pika

from shared.schemas import SendDigestsV1
from shared.schemas.scheduler import DigestDueV1, DigestsDueV1
from shared.topology import DIGEST_DUE_KEY, SCHEDULER_EXCHANGE

TEST_QUEUE = "test.digest_due"
#: When the digests of ``digest_due`` are due: 09:00 in Ulaanbaatar.
SCHEDULED_FOR = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)


def due_schedule_row(schedule_id: str, created_at: datetime, locale: str | None = None) -> dict:
    """A daily schedule, due at 08:00 UTC on 24 November 2026, as a row to insert in bulk."""
    return {
        "id": schedule_id,
        "user_id": f"user-{schedule_id[:8]}",
        "email": "someone@example.mn",
        "name": "",
        "locale": locale,
        "frequency": "daily",
        "delivery_time": "08:00",
        "delivery_day": None,
        "timezone": "UTC",
        "max_items": 20,
        "categories": [],
        "active": True,
        "next_run_at": datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc),
        "last_sent_at": None,
        "last_period_key": None,
        "created_at": created_at,
        "updated_at": created_at,
    }


def digest_due(
    schedule_id="s-1", period_key="2026-11-24", user_id="u-1", locale="en", categories=(), max_items=10
) -> dict:
    """A daily ``digest.due`` event for ``user_id``, due at ``SCHEDULED_FOR``."""
    return {
        "event_id": f"digest:{schedule_id}:{period_key}",
        "type": "digest.due",
        "version": 1,
        "occurred_at": SCHEDULED_FOR.isoformat(),
        "schedule_id": schedule_id,
        "period_key": period_key,
        "scheduled_for": SCHEDULED_FOR.isoformat(),
        "frequency": "daily",
        "timezone": "Asia/Ulaanbaatar",
        "recipient": {"user_id": user_id, "email": f"{user_id}@example.mn", "name": "Бат", "locale": locale},
        "categories": list(categories),
        "max_items": max_items,
    }


def send_digests_command(*digests: dict, batch_id="b-1") -> SendDigestsV1:
    """notifier's job for a batch of ``digest_due`` events."""
    return SendDigestsV1.model_validate(
        {
            "job_id": "job-1",
            "batch": {
                "type": "digest.due.batch",
                "version": 1,
                "batch_id": batch_id,
                "occurred_at": SCHEDULED_FOR.isoformat(),
                "digests": list(digests),
            },
        }
    )


class DigestQueue:
    """A queue of the test's own bound to scheduler.events / digest.due, read batch by batch.

    A connection per read, so a simulated broker outage in a test does not break the reader.
    """

    def __init__(self, amqp_url: str) -> None:
        self._parameters = pika.URLParameters(amqp_url)
        with closing(pika.BlockingConnection(self._parameters)) as connection:
            channel = connection.channel()
            channel.exchange_declare(SCHEDULER_EXCHANGE, exchange_type="topic", durable=True)
            channel.queue_declare(TEST_QUEUE, durable=True)
            channel.queue_bind(TEST_QUEUE, SCHEDULER_EXCHANGE, routing_key=DIGEST_DUE_KEY)

    def batches(self) -> list[DigestsDueV1]:
        """Every batch waiting now, validated against the schema."""
        found = []
        with closing(pika.BlockingConnection(self._parameters)) as connection:
            channel = connection.channel()
            while True:
                method, properties, body = channel.basic_get(TEST_QUEUE, auto_ack=True)
                if method is None:
                    return found
                assert properties.content_type == "application/json"
                assert properties.delivery_mode == 2
                batch = DigestsDueV1.model_validate_json(body)
                assert properties.message_id == batch.batch_id
                found.append(batch)

    def digests(self) -> list[DigestDueV1]:
        return [digest for batch in self.batches() for digest in batch.digests]
