"""Notification requests: other services ask notifier to tell a user something, now or in a digest.

Published to the ``notifications`` topic exchange (routing key ``notification.requested``) or
posted to notifier's ``POST /v1/notifications``: the same body either way.
"""

from typing import Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from shared.schemas.base import Category, HeaderSafeText, IanaTimeZone, JsonObject, Locale, Message, OccurredAt

Channel = Literal["email", "in_app"]
Priority = Literal["high", "normal", "low"]
DeliveryMode = Literal["immediate", "digest"]
#: Template names: lower-case words, e.g. ``comment_mention``.
TemplateName = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")


class Recipient(Message):
    user_id: HeaderSafeText = Field(min_length=1, max_length=128)
    email: EmailStr | None = None
    name: HeaderSafeText = Field(default="", max_length=200)
    locale: Locale | None = None
    timezone: IanaTimeZone | None = None


class NotificationRequestedV1(Message):
    """``notification.requested`` version 1: notify ``recipient`` through ``channels``."""

    event_id: HeaderSafeText = Field(min_length=1, max_length=128, description="the idempotency key")
    type: Literal["notification.requested"]
    version: Literal[1]
    occurred_at: OccurredAt
    recipient: Recipient
    category: Category
    template: str = TemplateName
    data: JsonObject = Field(default_factory=dict, description="the template's variables")
    channels: list[Channel] = Field(min_length=1, max_length=2)
    priority: Priority = "normal"
    delivery: DeliveryMode = "immediate"

    @field_validator("channels")
    @classmethod
    def _each_channel_once(cls, channels: list[str]) -> list[str]:
        if len(set(channels)) != len(channels):
            raise ValueError("each channel may appear once")
        return channels

    @model_validator(mode="after")
    def _email_needs_an_address(self):
        if "email" in self.channels and self.recipient.email is None:
            raise ValueError("the email channel needs recipient.email")
        return self


class DeliverNotificationV1(Message):
    """Command to notifier's own workers: deliver one accepted notification request."""

    version: Literal[1] = 1
    job_id: HeaderSafeText = Field(min_length=1, max_length=64)
    request: NotificationRequestedV1
