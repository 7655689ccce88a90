"""Digest schedules: what a client may ask for, and create/read/update/delete with validation.

``next_run_at`` is always computed here, from the schedule and "now": on create, on every
change, and NULL while the schedule is inactive (so the due scan's index never holds it).
"""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session, sessionmaker

from services.scheduler.digest_schedules.periods import ScheduleSpec, next_occurrence_after
from services.scheduler.digest_schedules.store import ScheduleFilter, ScheduleStore
from services.scheduler.tables import DigestSchedule
from shared.clock import Clock
from shared.db import unit_of_work
from shared.schemas.base import Category, IanaTimeZone, Locale
from shared.schemas.scheduler import DigestRecipient, Frequency

DeliveryTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="local HH:MM")]
DAY_RANGES = {"weekly": (1, 7), "monthly": (1, 31)}


class DigestScheduleFields(BaseModel):
    """A whole schedule as a client states it (the body of POST; a PATCH is merged into one)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    recipient: DigestRecipient
    frequency: Frequency
    delivery_time: DeliveryTime
    delivery_day: int | None = Field(default=None, description="weekly 1-7 (Monday 1); monthly 1-31; daily none")
    timezone: IanaTimeZone
    max_items: int = Field(default=20, ge=1, le=100)
    categories: list[Category] = Field(default_factory=list, description="empty: every category")
    active: bool = True

    @field_validator("categories")
    @classmethod
    def _without_repeats(cls, categories: list[str]) -> list[str]:
        return list(dict.fromkeys(categories))

    @model_validator(mode="after")
    def _day_fits_frequency(self) -> "DigestScheduleFields":
        if self.frequency == "daily":
            if self.delivery_day is not None:
                raise ValueError("delivery_day must be absent or null for a daily schedule")
            return self
        low, high = DAY_RANGES[self.frequency]
        if self.delivery_day is None or not low <= self.delivery_day <= high:
            raise ValueError(f"a {self.frequency} schedule needs delivery_day between {low} and {high}")
        return self


class RecipientPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str | None = None
    email: str | None = None
    name: str | None = None
    locale: Locale | None = None


class DigestSchedulePatch(BaseModel):
    """The body of PATCH: any subset of the fields. The merged schedule is validated as a whole
    (e.g. switching to daily needs ``"delivery_day": null`` in the same request)."""

    model_config = ConfigDict(extra="forbid")

    recipient: RecipientPatch | None = None
    frequency: str | None = None
    delivery_time: str | None = None
    delivery_day: int | None = None
    timezone: str | None = None
    max_items: int | None = None
    categories: list[str] | None = None
    active: bool | None = None


def spec_of(fields: DigestScheduleFields | DigestSchedule) -> ScheduleSpec:
    return ScheduleSpec(fields.frequency, fields.delivery_time, fields.delivery_day, fields.timezone)


def next_run_at(fields: DigestScheduleFields, now: datetime) -> datetime | None:
    """The first run after ``now``, or None for an inactive schedule."""
    return next_occurrence_after(spec_of(fields), now).at if fields.active else None


def fields_of(row: DigestSchedule) -> dict:
    return {
        "recipient": {"user_id": row.user_id, "email": row.email, "name": row.name, "locale": row.locale},
        "frequency": row.frequency,
        "delivery_time": row.delivery_time,
        "delivery_day": row.delivery_day,
        "timezone": row.timezone,
        "max_items": row.max_items,
        "categories": list(row.categories),
        "active": row.active,
    }


def merged(row: DigestSchedule, patch: DigestSchedulePatch) -> DigestScheduleFields:
    """The schedule after ``patch``; raises pydantic.ValidationError when the result is invalid."""
    current = fields_of(row)
    changes = patch.model_dump(exclude_unset=True)
    if "recipient" in changes and changes["recipient"] is not None:
        changes["recipient"] = {**current["recipient"], **changes["recipient"]}
    return DigestScheduleFields.model_validate({**current, **changes})


def columns_of(fields: DigestScheduleFields) -> dict:
    recipient = fields.recipient
    return {
        "user_id": recipient.user_id,
        "email": recipient.email,
        "name": recipient.name,
        "locale": recipient.locale,
        "frequency": fields.frequency,
        "delivery_time": fields.delivery_time,
        "delivery_day": fields.delivery_day,
        "timezone": fields.timezone,
        "max_items": fields.max_items,
        "categories": list(fields.categories),
        "active": fields.active,
    }


def view(row: DigestSchedule) -> dict:
    """A schedule as the API answers it."""
    return {
        "id": row.id,
        **fields_of(row),
        "next_run_at": row.next_run_at,
        "last_sent_at": row.last_sent_at,
        "last_period_key": row.last_period_key,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


class DigestSchedules:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._store = ScheduleStore()

    def create(self, fields: DigestScheduleFields) -> dict:
        now = self._clock.now()
        with unit_of_work(self._session_factory) as session:
            row = self._store.add(
                session,
                {
                    "id": str(uuid.uuid4()),
                    **columns_of(fields),
                    "next_run_at": next_run_at(fields, now),
                    "last_sent_at": None,
                    "last_period_key": None,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            return view(row)

    def get(self, schedule_id: str) -> dict | None:
        with unit_of_work(self._session_factory) as session:
            row = self._store.get(session, schedule_id)
            return view(row) if row is not None else None

    def update(self, schedule_id: str, patch: DigestSchedulePatch) -> dict | None:
        """Apply ``patch`` and recompute the next run from now; None for an unknown id.

        Raises pydantic.ValidationError when the changed schedule would be invalid.
        """
        now = self._clock.now()
        with unit_of_work(self._session_factory) as session:
            row = self._store.get(session, schedule_id, for_update=True)
            if row is None:
                return None
            fields = merged(row, patch)
            for column, value in columns_of(fields).items():
                setattr(row, column, value)
            row.next_run_at = next_run_at(fields, now)
            row.updated_at = now
            session.flush()
            return view(row)

    def delete(self, schedule_id: str) -> bool:
        with unit_of_work(self._session_factory) as session:
            return self._store.delete(session, schedule_id)

    def list_page(self, where: ScheduleFilter, *, limit: int, offset: int) -> tuple[int, list[dict]]:
        with unit_of_work(self._session_factory) as session:
            count, rows = self._store.list_page(session, where, limit=limit, offset=offset)
            return count, [view(row) for row in rows]
