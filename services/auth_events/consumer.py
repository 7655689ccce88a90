"""The ``auth.events`` entrypoint: validate each delivery, hand it to the handler, settle it.

An undecodable or invalid event is dead-lettered with the reason, and the consumer goes on.
A dependency that is down (database, broker) is a transient failure: the delivery is requeued.
"""

import json
import logging

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from services.auth_events.handlers import AuthEventsDeps, accept_signed_in
from services.auth_events.metrics import IngressMetrics
from shared.amqp_consumer import Delivery
from shared.correlation import correlation_scope
from shared.dead_letters import ERROR_HEADER, REASON_HEADER
from shared.errors import TransientError
from shared.schemas import UserSignedInV1
from shared.topology import AUTH_EVENTS_INGRESS_QUEUE, dead_letter_queue

logger = logging.getLogger("herald.auth_events.consumer")


def dead_letter_with_reason(delivery: Delivery, reason: str, error: str) -> None:
    # A plain nack would only say "rejected"; publishing to the dead-letter queue ourselves
    # (confirmed) before acking keeps the reason with the message.
    delivery.publish(
        dead_letter_queue(AUTH_EVENTS_INGRESS_QUEUE), delivery.body, {REASON_HEADER: reason, ERROR_HEADER: error}
    )
    delivery.ack()
    logger.warning("event dead-lettered", extra={"reason": reason, "error": error})


def handle_delivery(delivery: Delivery, deps: AuthEventsDeps, metrics: IngressMetrics) -> None:
    with correlation_scope(delivery.properties.correlation_id):
        try:
            event = UserSignedInV1.model_validate_json(delivery.body)
        except ValidationError as error:
            reason = "undecodable" if any(e["type"] == "json_invalid" for e in error.errors()) else "invalid_event"
            details = json.dumps(
                [{"loc": list(map(str, e["loc"])), "msg": e["msg"]} for e in error.errors()], ensure_ascii=False
            )
            dead_letter_with_reason(delivery, reason, details)
            metrics.count("amqp", "invalid")
            return
        try:
            acceptance = accept_signed_in(event, received_via="amqp", deps=deps)
        except OperationalError as error:
            metrics.count("amqp", "unavailable")
            raise TransientError(f"database unavailable: {type(error.orig).__name__}") from error
        delivery.ack()
        metrics.count("amqp", "duplicate" if acceptance.duplicate else "accepted")
