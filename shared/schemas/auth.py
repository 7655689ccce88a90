"""Facts about authentication, published by other services to the ``auth.events`` exchange."""

from typing import Literal

from pydantic import EmailStr, Field, IPvAnyAddress

from shared.schemas.base import HeaderSafeText, IanaTimeZone, Locale, Message, OccurredAt


class User(Message):
    id: HeaderSafeText = Field(min_length=1, max_length=128)
    email: EmailStr
    name: HeaderSafeText = Field(default="", max_length=200)
    locale: Locale | None = None
    timezone: IanaTimeZone | None = None


class SignInContext(Message):
    provider: HeaderSafeText = Field(min_length=1, max_length=64)
    ip_address: IPvAnyAddress
    user_agent: HeaderSafeText = Field(default="", max_length=1024)


class UserSignedInV1(Message):
    """``auth.user.signed_in`` version 1: a user signed in. The same body over AMQP and HTTP."""

    event_id: HeaderSafeText = Field(min_length=1, max_length=128, description="the idempotency key")
    type: Literal["auth.user.signed_in"]
    version: Literal[1]
    occurred_at: OccurredAt
    user: User
    context: SignInContext
