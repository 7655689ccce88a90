"""HTTP routes for notifications: requests in, preferences, and each user's in-app inbox.

``POST /v1/notifications`` answers exactly like ``POST /v1/events``. The user-facing routes are
called by the product's backend on its user's behalf, so they take the same ``X-API-Key``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from services.notifier.notifications.handlers import NotificationDeps, accept_notification
from services.notifier.preferences.model import Preferences, PreferencesBody
from shared.db import unit_of_work
from shared.schemas import NotificationRequestedV1
from shared.web.auth import require_api_key
from shared.web.event_route import install_event_route
from shared.web.params import Offset
from shared.web.responses import ResponseModel, Timestamp

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


class OptOutResponse(ResponseModel):
    category: str
    channel: str


class PreferencesResponse(ResponseModel):
    user_id: str
    muted: bool
    opt_outs: list[OptOutResponse]

    @classmethod
    def of(cls, user_id: str, preferences: Preferences) -> "PreferencesResponse":
        opt_outs = [OptOutResponse(category=category, channel=channel) for category, channel in sorted(preferences.opt_outs)]
        return cls(user_id=user_id, muted=preferences.muted, opt_outs=opt_outs)


class InboxItemResponse(ResponseModel):
    id: str
    category: str
    title: str
    body: str
    data: dict[str, Any]
    priority: str
    created_at: Timestamp
    read_at: Timestamp | None


class InboxPageResponse(ResponseModel):
    count: int
    unread_count: int
    items: list[InboxItemResponse]


class MarkedAllReadResponse(ResponseModel):
    marked_read: int


class MarkedReadResponse(ResponseModel):
    id: str
    read_at: Timestamp


def notification_routers(deps: NotificationApiDeps) -> list[APIRouter]:
    return [requests_router(deps), preferences_router(deps), inbox_router(deps)]


def requests_router(deps: NotificationApiDeps) -> APIRouter:
    """``POST /v1/notifications``: answers exactly like ``POST /v1/events``."""
    router = APIRouter(tags=["notifications"])
    handler_deps = deps.handler_deps
    install_event_route(
        router,
        "/v1/notifications",
        NotificationRequestedV1,
        partial(accept_notification, received_via="http", deps=handler_deps),
        job_status=handler_deps.ledger.status_of,
        example=EXAMPLE_REQUEST,
        api_keys=deps.api_keys,
        max_body_bytes=deps.max_event_bytes,
        count=deps.count,
    )
    return router


def _users_router(deps: NotificationApiDeps, tag: str) -> APIRouter:
    return APIRouter(prefix="/v1/users/{user_id}", tags=[tag], dependencies=[Depends(require_api_key(deps.api_keys))])


def preferences_router(deps: NotificationApiDeps) -> APIRouter:
    router = _users_router(deps, "preferences")
    session_factory = deps.handler_deps.session_factory
    store = deps.handler_deps.preferences

    @router.get("/preferences", response_model=PreferencesResponse)
    def get_preferences(user_id: str = UserId):
        with unit_of_work(session_factory) as session:
            return PreferencesResponse.of(user_id, store.get(session, user_id))

    @router.put("/preferences", response_model=PreferencesResponse)
    def put_preferences(body: PreferencesBody, user_id: str = UserId):
        preferences = body.to_preferences()
        with unit_of_work(session_factory) as session:
            store.put(session, user_id, preferences)
        return PreferencesResponse.of(user_id, preferences)

    return router


def inbox_router(deps: NotificationApiDeps) -> APIRouter:
    router = _users_router(deps, "inbox")
    session_factory = deps.handler_deps.session_factory
    store = deps.handler_deps.notifications

    @router.get("/notifications", response_model=InboxPageResponse)
    def list_notifications(
        user_id: str = UserId,
        unread: bool = False,
        limit: int = Query(20, ge=1, le=100),
        offset: Offset = 0,
    ):
        with unit_of_work(session_factory) as session:
            page = store.inbox(session, user_id, unread_only=unread, limit=limit, offset=offset)
            return InboxPageResponse.model_validate(page, from_attributes=True)

    @router.post("/notifications/read-all", response_model=MarkedAllReadResponse)
    def mark_all_read(user_id: str = UserId):
        with unit_of_work(session_factory) as session:
            return MarkedAllReadResponse(marked_read=store.mark_all_read(session, user_id))

    @router.post("/notifications/{notification_id}/read", response_model=MarkedReadResponse)
    def mark_read(user_id: str = UserId, notification_id: str = Path(max_length=64)):
        with unit_of_work(session_factory) as session:
            read_at = store.mark_read(session, user_id, notification_id)
        if read_at is None:
            raise HTTPException(404, f"No notification {notification_id} for user {user_id}")
        return MarkedReadResponse(id=notification_id, read_at=read_at)

    return router
