"""The base every Herald message is built on: frozen, strict, versioned."""

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A message crossing a service boundary.

    Frozen so a handler cannot change what it was given; ``extra="forbid"`` so a typo in a
    producer's payload is an error rather than silence.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
