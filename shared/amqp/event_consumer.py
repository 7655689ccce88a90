"""Consuming foreign events from a queue: validate each delivery, hand it on, settle it.

An undecodable or invalid event is dead-lettered with the reason, and the consumer goes on; so
is a well-formed one that ``accept`` refuses with a ``PermanentError`` (an unknown template).
A dependency that is down (database, broker) is a transient failure: the delivery is requeued.
Any other exception (a validator or handler that fails in a way nobody foresaw) is left to the
``QueueConsumer``, which dead-letters the delivery with the exception's text.
"""

import json
from collections.abc import Callable

from pydantic import ValidationError

from shared.amqp.consumer import Delivery
from shared.correlation import correlation_scope
from shared.errors import PermanentError, TransientError
from shared.jobs.intake import OUTAGE_ERRORS, Acceptance
from shared.schemas import Message

Count = Callable[[str, str], None]


def dead_letter_with_reason(delivery: Delivery, reason: str, error: str) -> None:
    delivery.dead_letter_with_reason(reason, error)


def validation_reason(error: ValidationError) -> tuple[str, str]:
    """(reason, details) for a delivery that failed validation."""
    reason = "undecodable" if any(e["type"] == "json_invalid" for e in error.errors()) else "invalid_event"
    details = json.dumps(
        [{"loc": list(map(str, e["loc"])), "msg": e["msg"]} for e in error.errors()], ensure_ascii=False
    )
    return reason, details


def event_handler(
    model: type[Message], accept: Callable[[Message], Acceptance | None], count: Count = lambda via, outcome: None
) -> Callable[[Delivery], None]:
    """A ``QueueConsumer`` handler that validates each delivery as ``model`` and calls ``accept``.

    ``accept`` returns the Acceptance of the job it accepted, or None when it did the work itself.
    """

    def handle(delivery: Delivery) -> None:
        with correlation_scope(delivery.properties.correlation_id):
            try:
                event = model.model_validate_json(delivery.body)
            except ValidationError as error:
                dead_letter_with_reason(delivery, *validation_reason(error))
                count("amqp", "invalid")
                return
            try:
                acceptance = accept(event)
            except PermanentError as error:
                dead_letter_with_reason(delivery, "invalid_event", str(error))
                count("amqp", "invalid")
                return
            except OUTAGE_ERRORS as error:
                count("amqp", "unavailable")
                raise TransientError(f"unavailable: {type(error).__name__}") from error
            delivery.ack()
            count("amqp", "duplicate" if acceptance is not None and acceptance.duplicate else "accepted")

    return handle
