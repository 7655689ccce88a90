"""``/v1/digest-schedules``: thin routes over DigestSchedules.

Every route needs ``X-API-Key`` when API keys are configured. Errors are problem+json (the app
installs shared.web.http's handlers): 401 bad key, 404 unknown id, 422 invalid body or query.
"""

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from services.scheduler.digest_schedules.handlers import DigestScheduleFields, DigestSchedulePatch, DigestSchedules
from services.scheduler.digest_schedules.store import ScheduleFilter
from shared.clock import Clock
from shared.web.event_route import require_api_key
from shared.web.http import problem, validation_errors

PATH = "/v1/digest-schedules"


def build_digest_schedules_router(
    *, session_factory: sessionmaker[Session], clock: Clock, api_keys: list[str]
) -> APIRouter:
    """The routes, guarded by ``X-API-Key`` when ``api_keys`` is not empty."""
    schedules = DigestSchedules(session_factory, clock)
    router = APIRouter(prefix=PATH, tags=["digest schedules"], dependencies=[Depends(require_api_key(api_keys))])

    def not_found(schedule_id: str) -> HTTPException:
        return HTTPException(404, f"No digest schedule {schedule_id}")

    @router.post("", status_code=201)
    def create_schedule(fields: DigestScheduleFields, response: Response):
        created = schedules.create(fields)
        response.headers["Location"] = f"{PATH}/{created['id']}"
        return created

    @router.get("")
    def list_schedules(
        user_id: str | None = Query(None, max_length=128),
        frequency: Literal["daily", "weekly", "monthly"] | None = None,
        active: bool | None = None,
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
    ):
        count, items = schedules.list_page(
            ScheduleFilter(user_id=user_id, frequency=frequency, active=active), limit=limit, offset=offset
        )
        return {"count": count, "items": items}

    @router.get("/{schedule_id}")
    def get_schedule(schedule_id: str):
        found = schedules.get(schedule_id)
        if found is None:
            raise not_found(schedule_id)
        return found

    @router.patch("/{schedule_id}")
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
