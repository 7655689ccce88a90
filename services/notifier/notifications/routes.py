"""HTTP routes for notifications: requests in, preferences, and each user's in-app inbox.

``POST /v1/notifications`` answers exactly like ``POST /v1/events``. The user-facing routes are
called by the product's backend on its user's behalf, so they take the same ``X-API-Key``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from fastapi import Depends, FastAPI, HTTPException, Path, Query

from services.notifier.notifications.handlers import NotificationDeps, accept_notification
from services.notifier.notifications.preferences import PreferencesBody, preferences_as_json
from services.notifier.tables import Notification
from shared.db import unit_of_work
from shared.schemas import NotificationRequestedV1
from shared.web.event_route import install_event_route, require_api_key

UserId = Path(min_length=1, max_length=128)

#: The body ``/docs`` offers to "Try it out" with: a valid request, to the in-app inbox only.
EXAMPLE_REQUEST = {
    "event_id": "c2a4e0d6-8d3b-4f0e-b1b5-7a9e1f3c5d21",
    "type": "notification.requested",
    "version": 1,
    "occurred_at": "2026-11-23T08:15:00Z",
    "recipient": {"user_id": "u-123", "email": "bat@example.mn", "name": "Бат", "locale": "mn"},
    "category": "comments",
    "template": "comment_mention",
    "data": {"author": "Сараа", "snippet": "Энийг харна уу", "url": "https://app.example.mn/c/1"},
    "channels": ["in_app"],
    "priority": "normal",
    "delivery": "immediate",
}


@dataclass
class NotificationApiDeps:
    handler_deps: NotificationDeps
    api_keys: list[str]
    max_event_bytes: int
    count: Callable[[str, str], None]


def install_notification_routes(app: FastAPI, deps: NotificationApiDeps) -> None:
    handler_deps = deps.handler_deps
    install_event_route(
        app,
        "/v1/notifications",
        NotificationRequestedV1,
        partial(accept_notification, received_via="http", deps=handler_deps),
        job_status=handler_deps.ledger.status_of,
        example=EXAMPLE_REQUEST,
        api_keys=deps.api_keys,
        max_body_bytes=deps.max_event_bytes,
        count=deps.count,
    )
    keyed = [Depends(require_api_key(deps.api_keys))]
    session_factory = handler_deps.session_factory
    store = handler_deps.notifications

    @app.get("/v1/users/{user_id}/preferences", dependencies=keyed)
    def get_preferences(user_id: str = UserId):
        with unit_of_work(session_factory) as session:
            return preferences_as_json(user_id, handler_deps.preferences.get(session, user_id))

    @app.put("/v1/users/{user_id}/preferences", dependencies=keyed)
    def put_preferences(body: PreferencesBody, user_id: str = UserId):
        preferences = body.to_preferences()
        with unit_of_work(session_factory) as session:
            handler_deps.preferences.put(session, user_id, preferences)
        return preferences_as_json(user_id, preferences)

    @app.get("/v1/users/{user_id}/notifications", dependencies=keyed)
    def list_notifications(
        user_id: str = UserId,
        unread: bool = False,
        limit: int = Query(20, ge=1, le=100),
        offset: int = Query(0, ge=0),
    ):
        with unit_of_work(session_factory) as session:
            page = store.inbox(session, user_id, unread_only=unread, limit=limit, offset=offset)
            return {
                "count": page.count,
                "unread_count": page.unread_count,
                "items": [inbox_item(notification) for notification in page.items],
            }

    @app.post("/v1/users/{user_id}/notifications/read-all", dependencies=keyed)
    def mark_all_read(user_id: str = UserId):
        with unit_of_work(session_factory) as session:
            return {"marked_read": store.mark_all_read(session, user_id)}

    @app.post("/v1/users/{user_id}/notifications/{notification_id}/read", dependencies=keyed)
    def mark_read(user_id: str = UserId, notification_id: str = Path(max_length=64)):
        with unit_of_work(session_factory) as session:
            read_at = store.mark_read(session, user_id, notification_id)
        if read_at is None:
            raise HTTPException(404, f"No notification {notification_id} for user {user_id}")
        return {"id": notification_id, "read_at": read_at}


def inbox_item(notification: Notification) -> dict:
    return {
        "id": notification.id,
        "category": notification.category,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "priority": notification.priority,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }
