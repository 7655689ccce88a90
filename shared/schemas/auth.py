"""Facts about authentication, published by other services to the ``auth.events`` exchange."""

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, EmailStr, Field, IPvAnyAddress, field_validator

from shared.schemas.base import Message

Locale = Literal["en", "mn"]


class User(Message):
    id: str = Field(min_length=1, max_length=128)
    email: EmailStr
    name: str = Field(default="", max_length=200)
    locale: Locale | None = None
    timezone: str | None = Field(default=None, max_length=64, description="IANA time zone name")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


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
