"""``/v1/digest-schedules``: thin routes over DigestSchedules.

Every route needs ``X-API-Key`` when API keys are configured. Errors are problem+json (the app
installs shared.web.problems' handlers): 401 bad key, 404 unknown id, 422 invalid body or query.
"""

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from services.scheduler.digest_schedules.handlers import DigestScheduleFields, DigestSchedulePatch, DigestSchedules
from services.scheduler.digest_schedules.store import ScheduleFilter
from shared.clock import Clock
from shared.schemas.base import Locale
from shared.schemas.scheduler import Frequency
from shared.web.auth import require_api_key
from shared.web.params import Offset
from shared.web.problems import problem, validation_errors
from shared.web.responses import ResponseModel, Timestamp

PATH = "/v1/digest-schedules"


class RecipientResponse(ResponseModel):
    user_id: str
    email: str
    name: str
    locale: Locale | None


class DigestScheduleResponse(ResponseModel):
    """A schedule as the API answers it: what the client stated, and where it stands."""

    id: str
    recipient: RecipientResponse
    frequency: Frequency
    delivery_time: str
    delivery_day: int | None
    timezone: str
    max_items: int
    categories: list[str]
    active: bool
    #: None while the schedule is inactive.
    next_run_at: Timestamp | None
    last_sent_at: Timestamp | None
    last_period_key: str | None
    created_at: Timestamp
    updated_at: Timestamp


class DigestSchedulePageResponse(ResponseModel):
    count: int
    items: list[DigestScheduleResponse]


def build_digest_schedules_router(
    *, session_factory: sessionmaker[Session], clock: Clock, api_keys: list[str]
) -> APIRouter:
    """The routes, guarded by ``X-API-Key`` when ``api_keys`` is not empty."""
    schedules = DigestSchedules(session_factory, clock)
    router = APIRouter(prefix=PATH, tags=["digest schedules"], dependencies=[Depends(require_api_key(api_keys))])

    def not_found(schedule_id: str) -> HTTPException:
        return HTTPException(404, f"No digest schedule {schedule_id}")

    @router.post("", status_code=201, response_model=DigestScheduleResponse)
    def create_schedule(fields: DigestScheduleFields, response: Response):
        created = schedules.create(fields)
        response.headers["Location"] = f"{PATH}/{created['id']}"
        return created

    @router.get("", response_model=DigestSchedulePageResponse)
    def list_schedules(
        user_id: str | None = Query(None, max_length=128),
        frequency: Literal["daily", "weekly", "monthly"] | None = None,
        active: bool | None = None,
        limit: int = Query(50, ge=1, le=500),
        offset: Offset = 0,
    ):
        count, items = schedules.list_page(
            ScheduleFilter(user_id=user_id, frequency=frequency, active=active), limit=limit, offset=offset
        )
        return DigestSchedulePageResponse(count=count, items=items)

    @router.get("/{schedule_id}", response_model=DigestScheduleResponse)
    def get_schedule(schedule_id: str):
        found = schedules.get(schedule_id)
        if found is None:
            raise not_found(schedule_id)
        return found

    @router.patch("/{schedule_id}", response_model=DigestScheduleResponse)
    def update_schedule(schedule_id: str, patch: DigestSchedulePatch):
        try:
            updated = schedules.update(schedule_id, patch)
        except ValidationError as error:
            return problem(422, "Invalid request", errors=validation_errors(error.errors()))
        if updated is None:
            raise not_found(schedule_id)
        return updated

    @router.delete("/{schedule_id}", status_code=204)
    def delete_schedule(schedule_id: str):
        if not schedules.delete(schedule_id):
            raise not_found(schedule_id)
        return Response(status_code=204)

    return router
