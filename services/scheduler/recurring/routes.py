"""``GET /v1/schedules``: each recurring schedule, what it emits, and its next run as the
scheduler has it."""

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter

from services.scheduler.recurring.schedules import RecurringSchedule
from shared.schemas.scheduler import MaintenanceTask, RollupPeriod
from shared.web.responses import ResponseModel, Timestamp


class RecurringScheduleResponse(ResponseModel):
    name: str
    #: As configured: a cron expression, or "every N s".
    schedule: str
    timezone: str
    emits: str
    task: MaintenanceTask | None
    period: RollupPeriod | None
    next_run_at: Timestamp | None

    @classmethod
    def of(cls, schedule: RecurringSchedule, next_run_at: datetime | None) -> "RecurringScheduleResponse":
        return cls(
            name=schedule.name,
            schedule=schedule.spec,
            timezone=schedule.timezone,
            emits=schedule.emits,
            task=schedule.task,
            period=schedule.period,
            next_run_at=next_run_at,
        )


class RecurringSchedulesResponse(ResponseModel):
    items: list[RecurringScheduleResponse]


def recurring_schedules_router(recurring: Callable[[], list[tuple[RecurringSchedule, datetime | None]]]) -> APIRouter:
    """``recurring()`` gives each recurring schedule with its next run time as the scheduler has it."""
    router = APIRouter(tags=["recurring schedules"])

    @router.get("/v1/schedules", response_model=RecurringSchedulesResponse)
    def list_recurring_schedules():
        items = [RecurringScheduleResponse.of(schedule, next_run_at) for schedule, next_run_at in recurring()]
        return RecurringSchedulesResponse(items=items)

    return router
