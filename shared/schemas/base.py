"""The base every Herald message is built on: frozen, strict, versioned; and the field types
several messages share.

The field types refuse at validation what would fail later, so that bad input is a 422 (or an
``invalid_event`` dead letter) and never a 500 or a job that fails on every attempt:

- ``Text``: storable text. No NUL (PostgreSQL refuses it), no lone surrogate (it cannot be
  encoded to UTF-8), no control character other than tab, line feed and carriage return.
- ``HeaderSafeText``: one line of ``Text``: no control character at all and no Unicode line or
  paragraph separator, so that it can go into an email header or subject as it is (a name
  ``Bat\\r\\nBcc: victim@example.com`` is refused).
- ``IanaTimeZone``: exactly the names ``zoneinfo.available_timezones()`` knows, less the two
  that are not time zones.
- ``EventTime``: a timezone-aware instant in [2000-01-01, 2100-01-01) UTC; ``OccurredAt`` also
  at most a day ahead of this host's clock (a producer's clock may be a little fast, not a year).
"""

import functools
import math
import unicodedata
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, JsonValue


class Message(BaseModel):
    """A message crossing a service boundary.

    Frozen so a handler cannot change what it was given; ``extra="forbid"`` so a typo in a
    producer's payload is an error rather than silence.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# -- text ----------------------------------------------------------------------------------------

#: Control characters text may hold: it may span lines and be indented.
_TEXT_CONTROLS = frozenset("\t\n\r")


def _refused_character(value: str, allowed_controls: frozenset[str], line_breaks_allowed: bool) -> str | None:
    """A description of the first character ``value`` may not hold, or None."""
    for position, character in enumerate(value):
        category = unicodedata.category(character)
        if character == "\x00":
            return f"a NUL character (U+0000) at position {position}"
        if category == "Cs":
            return f"a lone surrogate (U+{ord(character):04X}) at position {position}, which is not valid Unicode"
        if category == "Cc" and character not in allowed_controls:
            return f"a control character (U+{ord(character):04X}) at position {position}"
        if category in ("Zl", "Zp") and not line_breaks_allowed:
            return f"a line separator (U+{ord(character):04X}) at position {position}"
    return None


def storable_text(value: str) -> str:
    refused = _refused_character(value, _TEXT_CONTROLS, line_breaks_allowed=True)
    if refused:
        raise ValueError(f"text may not contain {refused}")
    return value


def header_safe_text(value: str) -> str:
    refused = _refused_character(value, frozenset(), line_breaks_allowed=False)
    if refused:
        raise ValueError(f"must be one line of text without {refused}")
    return value


#: The same rules as JSON Schema patterns, for producers (a lone surrogate is not valid JSON).
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
HEADER_SAFE_TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"

Text = Annotated[str, AfterValidator(storable_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
HeaderSafeText = Annotated[
    str, AfterValidator(header_safe_text), Field(json_schema_extra={"pattern": HEADER_SAFE_TEXT_PATTERN})
]


def _check_json_value(value: JsonValue, path: str) -> None:
    if isinstance(value, str):
        try:
            storable_text(value)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
    elif isinstance(value, float) and not math.isfinite(value):
        # json.dumps would write NaN or Infinity, which is not JSON: PostgreSQL refuses it.
        raise ValueError(f"{path}: numbers must be finite")
    elif isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise ValueError(f"{path}: integers must fit in 64 bits")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        _check_json_object(value, path)


def _check_json_object(value: dict[str, JsonValue], path: str) -> None:
    for key, item in value.items():
        try:
            header_safe_text(key)
        except ValueError as error:
            raise ValueError(f"{path}: a key {error}") from None
        _check_json_value(item, f"{path}.{key}")


def storable_json_object(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    _check_json_object(value, "data")
    return value


#: A JSON object whose strings are ``Text`` (keys one line), numbers finite and 64-bit integers.
JsonObject = Annotated[dict[str, JsonValue], AfterValidator(storable_json_object)]


# -- time zones ----------------------------------------------------------------------------------

#: Names ``available_timezones()`` may list that are not time zones: ``localtime`` is the host's
#: own zone under another name, ``Factory`` the placeholder for "no zone set" ("-00").
_NOT_TIME_ZONES = frozenset({"localtime", "Factory"})


@functools.cache
def iana_time_zones() -> frozenset[str]:
    """Every IANA time zone name this host knows (the system's database and the tzdata package)."""
    return frozenset(zoneinfo.available_timezones()) - _NOT_TIME_ZONES


def known_time_zone(value: str) -> str:
    # A set lookup, not ZoneInfo(value): that also opens directories ("Asia"), posixrules,
    # "right/UTC" and any file under the zoneinfo path.
    if value not in iana_time_zones():
        raise ValueError(f"unknown IANA time zone {value!r}; expected a name such as 'Asia/Ulaanbaatar' or 'UTC'")
    return value


IanaTimeZone = Annotated[str, Field(max_length=64, description="IANA time zone name"), AfterValidator(known_time_zone)]


# -- instants ------------------------------------------------------------------------------------

#: The instants Herald can process: every date it renders, in every time zone, and every retry
#: or period computed from it stays well inside what ``datetime`` can hold.
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_EVENT_TIME = datetime(2100, 1, 1, tzinfo=UTC)
#: How far ahead of this host's clock a producer may state that something happened.
MAX_CLOCK_SKEW = timedelta(days=1)


def in_event_time_range(value: datetime) -> datetime:
    if not EARLIEST_EVENT_TIME <= value < LATEST_EVENT_TIME:
        raise ValueError(
            f"must be from {EARLIEST_EVENT_TIME:%Y-%m-%d} to before {LATEST_EVENT_TIME:%Y-%m-%d} (UTC)"
        )
    return value


def not_in_the_future(value: datetime) -> datetime:
    if value > datetime.now(UTC) + MAX_CLOCK_SKEW:
        raise ValueError("is more than a day in the future")
    return value


EventTime = Annotated[
    AwareDatetime,
    AfterValidator(in_event_time_range),
    Field(description="ISO 8601 with a UTC offset, from 2000-01-01 to before 2100-01-01"),
]
OccurredAt = Annotated[
    AwareDatetime,
    AfterValidator(in_event_time_range),
    AfterValidator(not_in_the_future),
    Field(description="when it happened: ISO 8601 with a UTC offset, from 2000-01-01 to at most a day from now"),
]


# -- identifiers ---------------------------------------------------------------------------------

Locale = Literal["en", "mn"]
#: Notification categories: lower-case words, e.g. ``security``, ``comments``, ``billing.invoices``.
Category = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
#: The one category nobody can mute or opt out of.
SECURITY_CATEGORY = "security"
