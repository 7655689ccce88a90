"""Events as other services send them: sign-in events over HTTP and to the ``auth.events``
exchange, notification requests, and any JSON to any exchange."""

import json
import uuid

import pika

from shared.topology import DELIVER_NOTIFICATION

UA_CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def signed_in_event(*, event_id: str | None = None, user_id: str = "u-123", locale: str = "mn", **user) -> dict:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "type": "auth.user.signed_in",
        "version": 1,
        "occurred_at": "2026-11-23T08:15:00Z",
        "user": {
            "id": user_id,
            "email": user.pop("email", "bat@example.mn"),
            "name": user.pop("name", "Бат"),
            "locale": locale,
            "timezone": user.pop("timezone", "Asia/Ulaanbaatar"),
        },
        "context": {"provider": "github", "ip_address": "203.0.113.7", "user_agent": UA_CHROME_MAC},
    }


def notification_requested(
    *, event_id: str | None = None, user_id: str = "u-1", email: str = "bat@example.mn", locale: str = "mn", **fields
) -> dict:
    """A ``notification.requested`` event as another service sends it: a generic notification by
    email and to the inbox, unless ``fields`` (any of the event's top-level fields) say otherwise."""
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "type": "notification.requested",
        "version": 1,
        "occurred_at": "2026-11-23T08:15:00Z",
        "recipient": {"user_id": user_id, "email": email, "name": "Бат", "locale": locale},
        "category": "comments",
        "template": "generic",
        "data": {"title": "Hello", "body": "Body text"},
        "channels": ["email", "in_app"],
        **fields,
    }


def notification_job_id(body: dict) -> str:
    """The id of the delivery job a notification request becomes (one id whatever its priority)."""
    return DELIVER_NOTIFICATION["normal"].job_id_for(body["event_id"])


def publish_json(amqp_url: str, exchange: str, routing_key: str, body: bytes | dict, **properties) -> None:
    """Publish as a foreign producer would: persistent JSON on the exchange, confirmed.
    ``body`` as bytes goes out as given (to send what is not JSON)."""
    payload = json.dumps(body).encode() if isinstance(body, dict) else body
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            exchange,
            routing_key,
            payload,
            pika.BasicProperties(content_type="application/json", delivery_mode=2, **properties),
            mandatory=True,
        )
    finally:
        connection.close()


def publish_to_auth_events(amqp_url: str, body: bytes | dict, routing_key: str = "auth.user.signed_in", **properties) -> None:
    publish_json(amqp_url, "auth.events", routing_key, body, **properties)
