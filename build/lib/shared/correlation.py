"""The correlation id that follows one event from ingress to the email it causes."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[str | None] = ContextVar("herald_correlation_id", default=None)

MAX_LENGTH = 64


def current_correlation_id() -> str | None:
    return _current.get()


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def usable_correlation_id(candidate: str | None) -> str:
    """A caller's id when it is sane, a fresh one otherwise (never trust an unbounded header)."""
    if candidate and len(candidate) <= MAX_LENGTH and candidate.isprintable():
        return candidate
    return new_correlation_id()


@contextmanager
def correlation_scope(correlation_id: str | None) -> Iterator[str]:
    token = _current.set(usable_correlation_id(correlation_id))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
