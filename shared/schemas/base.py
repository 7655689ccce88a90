"""The base every Herald message is built on: frozen, strict, versioned; and the field types
several messages share."""

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class Message(BaseModel):
    """A message crossing a service boundary.

    Frozen so a handler cannot change what it was given; ``extra="forbid"`` so a typo in a
    producer's payload is an error rather than silence.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def known_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


Locale = Literal["en", "mn"]
TimeZoneName = Annotated[str, Field(max_length=64, description="IANA time zone name"), AfterValidator(known_time_zone)]
#: Notification categories: lower-case words, e.g. ``security``, ``comments``, ``billing.invoices``.
Category = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
#: The one category nobody can mute or opt out of.
SECURITY_CATEGORY = "security"
