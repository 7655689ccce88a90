"""A valid example of every message in ``shared.schemas.MESSAGES``, as the JSON-shaped dict a
producer would send: the starting point for tests that break one field at a time."""

import copy

from tests.support.events import notification_requested, signed_in_event

_NOTIFICATION = notification_requested(
    event_id="n-1",
    recipient={"user_id": "u-1", "email": "bat@example.mn", "name": "Бат", "locale": "mn", "timezone": "Asia/Ulaanbaatar"},
    template="comment_mention",
    data={"author": "Сараа", "snippet": "Сайн уу\nдараагийн мөр", "url": "https://app.example.mn/c/1", "count": 2,
          "tags": ["a", {"b": 1.5}]},
)
_DIGEST = {
    "event_id": "digest:s-1:2026-11-24",
    "type": "digest.due",
    "version": 1,
    "occurred_at": "2026-11-24T00:00:05Z",
    "schedule_id": "s-1",
    "period_key": "2026-11-24",
    "scheduled_for": "2026-11-24T00:00:00Z",
    "frequency": "daily",
    "timezone": "Asia/Ulaanbaatar",
    "recipient": {"user_id": "u-1", "email": "bat@example.mn", "name": "Бат", "locale": "mn"},
    "categories": ["comments"],
    "max_items": 20,
}
_DIGESTS = {"type": "digest.due.batch", "version": 1, "batch_id": "b-1", "occurred_at": "2026-11-24T00:00:05Z", "digests": [_DIGEST]}
_MAINTENANCE = {
    "event_id": "maintenance:rollup:daily:2026-11-24T00:15:00+00:00",
    "type": "maintenance.due",
    "version": 1,
    "occurred_at": "2026-11-24T00:15:00Z",
    "task": "rollup",
    "period": "daily",
    "scheduled_for": "2026-11-24T00:15:00Z",
}


def _signin_alert() -> dict:
    event = signed_in_event(event_id="e-1")
    return {"version": 1, "job_id": "j-1", "event_id": event["event_id"], "occurred_at": event["occurred_at"],
            "user": event["user"], "context": event["context"]}


def example_messages() -> dict[str, dict]:
    """``MESSAGES`` name -> a valid payload (a fresh copy on every call)."""
    return copy.deepcopy({
        "auth.user.signed_in.v1": signed_in_event(event_id="e-1"),
        "notification.requested.v1": _NOTIFICATION,
        "digest.due.v1": _DIGEST,
        "digest.due.batch.v1": _DIGESTS,
        "maintenance.due.v1": _MAINTENANCE,
        "notifier.send_signin_alert.v1": _signin_alert(),
        "notifier.deliver_notification.v1": {"version": 1, "job_id": "j-1", "request": _NOTIFICATION},
        "notifier.send_digests.v1": {"version": 1, "job_id": "j-1", "batch": _DIGESTS},
        "notifier.run_maintenance.v1": {"version": 1, "job_id": "j-1", "due": _MAINTENANCE},
    })


def string_leaves(value, path: tuple = ()) -> list[tuple]:
    """The path of every string in a JSON-shaped value (dict keys and list indexes)."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in string_leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in string_leaves(item, (*path, index))]
    return []


def replaced(value, path: tuple, new):
    """A copy of ``value`` with the item at ``path`` replaced by ``new``."""
    value = copy.deepcopy(value)
    container = value
    for step in path[:-1]:
        container = container[step]
    container[path[-1]] = new
    return value
