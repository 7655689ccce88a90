"""Frozen, versioned pydantic models of every message Herald carries.

``MESSAGES`` names each one as ``<name>.v<version>``; its JSON Schema is committed under
``shared/schemas/json/`` (``python -m shared.schemas.export`` regenerates it).
"""

from shared.schemas.auth import SignInContext, User, UserSignedInV1
from shared.schemas.base import SECURITY_CATEGORY, Message
from shared.schemas.notifications import DeliverNotificationV1, NotificationRequestedV1, Recipient
from shared.schemas.notifier import SendSignInAlertV1
from shared.schemas.scheduler import (
    DigestDueV1,
    DigestRecipient,
    DigestsDueV1,
    MaintenanceDueV1,
    RunMaintenanceV1,
    SendDigestsV1,
)

MESSAGES: dict[str, type[Message]] = {
    "auth.user.signed_in.v1": UserSignedInV1,
    "notification.requested.v1": NotificationRequestedV1,
    "digest.due.v1": DigestDueV1,
    "digest.due.batch.v1": DigestsDueV1,
    "maintenance.due.v1": MaintenanceDueV1,
    "notifier.send_signin_alert.v1": SendSignInAlertV1,
    "notifier.deliver_notification.v1": DeliverNotificationV1,
    "notifier.send_digests.v1": SendDigestsV1,
    "notifier.run_maintenance.v1": RunMaintenanceV1,
}

__all__ = [
    "MESSAGES",
    "SECURITY_CATEGORY",
    "DeliverNotificationV1",
    "DigestDueV1",
    "DigestRecipient",
    "DigestsDueV1",
    "MaintenanceDueV1",
    "Message",
    "NotificationRequestedV1",
    "Recipient",
    "RunMaintenanceV1",
    "SendDigestsV1",
    "SendSignInAlertV1",
    "SignInContext",
    "User",
    "UserSignedInV1",
]
