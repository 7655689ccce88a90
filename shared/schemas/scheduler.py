"""Events the scheduler emits to the ``scheduler.events`` topic exchange. It only emits; the
service that owns the data does the work."""

from typing import Literal

from pydantic import EmailStr, Field

from shared.schemas.base import Category, EventTime, HeaderSafeText, IanaTimeZone, Locale, Message

Frequency = Literal["daily", "weekly", "monthly"]
MaintenanceTask = Literal["retention", "rollup", "dead_letter_watchdog"]
RollupPeriod = Literal["hourly", "daily", "weekly", "monthly"]

#: Most digest.due events one batch message carries.
MAX_DIGESTS_PER_BATCH = 5000


class DigestRecipient(Message):
    user_id: HeaderSafeText = Field(min_length=1, max_length=128)
    email: EmailStr
    name: HeaderSafeText = Field(default="", max_length=200)
    locale: Locale | None = None


class DigestDueV1(Message):
    """``digest.due`` version 1: one schedule's digest for one period is due.

    ``period_key`` names the period (``2026-11-24`` daily, ``2026-W48`` weekly, ``2026-11``
    monthly, in the schedule's time zone); ``event_id`` is ``digest:{schedule_id}:{period_key}``,
    so emitting the same period twice yields the same event.
    """

    event_id: HeaderSafeText = Field(min_length=1, max_length=128)
    type: Literal["digest.due"]
    version: Literal[1]
    occurred_at: EventTime
    schedule_id: HeaderSafeText = Field(min_length=1, max_length=64)
    period_key: HeaderSafeText = Field(min_length=1, max_length=32)
    scheduled_for: EventTime
    frequency: Frequency
    timezone: IanaTimeZone
    recipient: DigestRecipient
    categories: list[Category] = Field(default_factory=list, description="empty: every category")
    max_items: int = Field(ge=1, le=100)


class DigestsDueV1(Message):
    """The wire envelope of ``digest.due``: a batch of due digests, published as one message.

    One AMQP message per batch is what lets a due scan emit tens of thousands of digests a second
    (a confirmed publish per digest tops out near a thousand); each digest keeps its own event_id.
    """

    type: Literal["digest.due.batch"]
    version: Literal[1]
    batch_id: HeaderSafeText = Field(min_length=1, max_length=128)
    occurred_at: EventTime
    digests: list[DigestDueV1] = Field(min_length=1, max_length=MAX_DIGESTS_PER_BATCH)


class MaintenanceDueV1(Message):
    """``maintenance.<task>.due`` version 1: a recurring maintenance task is due.

    ``event_id`` is ``maintenance:{task}[:{period}]:{scheduled_for}``: two schedulers firing the
    same run emit the same event, and its owner does the work once.
    """

    event_id: HeaderSafeText = Field(min_length=1, max_length=128)
    type: Literal["maintenance.due"]
    version: Literal[1]
    occurred_at: EventTime
    task: MaintenanceTask
    period: RollupPeriod | None = Field(default=None, description="for rollups: which period to roll up")
    scheduled_for: EventTime


class SendDigestsV1(Message):
    """Command to notifier's own workers: build and send one batch of due digests."""

    version: Literal[1] = 1
    job_id: HeaderSafeText = Field(min_length=1, max_length=64)
    batch: DigestsDueV1


class RunMaintenanceV1(Message):
    """Command to notifier's own workers: do one maintenance run."""

    version: Literal[1] = 1
    job_id: HeaderSafeText = Field(min_length=1, max_length=64)
    due: MaintenanceDueV1
