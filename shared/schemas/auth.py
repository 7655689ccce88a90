"""Facts about authentication, published by other services to the ``auth.events`` exchange."""

from typing import Literal

from pydantic import AwareDatetime, EmailStr, Field, IPvAnyAddress

from shared.schemas.base import Locale, Message, TimeZoneName


class User(Message):
    id: str = Field(min_length=1, max_length=128)
    email: EmailStr
    name: str = Field(default="", max_length=200)
    locale: Locale | None = None
    timezone: TimeZoneName | None = None


class SignInContext(Message):
    provider: str = Field(min_length=1, max_length=64)
    ip_address: IPvAnyAddress
    user_agent: str = Field(default="", max_length=1024)


class UserSignedInV1(Message):
    """``auth.user.signed_in`` version 1: a user signed in. The same body over AMQP and HTTP."""

    event_id: str = Field(min_length=1, max_length=128, description="the idempotency key")
    type: Literal["auth.user.signed_in"]
    version: Literal[1]
    occurred_at: AwareDatetime
    user: User
    context: SignInContext
