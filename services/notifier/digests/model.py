"""digests' plain data, shared by its store (which lists it) and its rendering (which shows it)."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DigestItem:
    title: str
    body: str
    created_at: datetime
