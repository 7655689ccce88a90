"""Admin routes over the maintenance results: notification statistics and the runs log."""

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime
from sqlalchemy.orm import Session, sessionmaker

from services.notifier.maintenance import store
from shared.web.auth import require_admin
from shared.web.params import Offset
from shared.web.responses import ResponseModel, Timestamp

Period = Literal["hourly", "daily", "weekly", "monthly"]


@dataclass
class MaintenanceApiDeps:
    session_factory: sessionmaker[Session]
    admin_token: str


class StatResponse(ResponseModel):
    period: str
    period_start: Timestamp
    channel: str
    category: str
    sent: int
    failed: int
    skipped: int
    computed_at: Timestamp


class StatsResponse(ResponseModel):
    period: Period
    items: list[StatResponse]


class MaintenanceRunResponse(ResponseModel):
    id: int
    job_id: str | None
    task: str
    period: str | None
    period_start: Timestamp | None
    started_at: Timestamp
    finished_at: Timestamp | None
    duration_ms: int | None
    rows: int
    details: dict[str, Any] | None
    error: str | None


class MaintenanceRunPageResponse(ResponseModel):
    count: int
    items: list[MaintenanceRunResponse]


def maintenance_routers(deps: MaintenanceApiDeps) -> list[APIRouter]:
    return [stats_router(deps), runs_router(deps)]


def _admin_router(deps: MaintenanceApiDeps) -> APIRouter:
    return APIRouter(tags=["admin: maintenance"], dependencies=[Depends(require_admin(deps.admin_token))])


def stats_router(deps: MaintenanceApiDeps) -> APIRouter:
    router = _admin_router(deps)

    @router.get("/v1/admin/stats", response_model=StatsResponse)
    def list_stats(
        period: Period = "daily",
        since: AwareDatetime | None = Query(None, alias="from", description="first period_start included"),
        until: AwareDatetime | None = Query(None, alias="to", description="period_start before this"),
        channel: str | None = None,
        category: str | None = None,
        limit: int = Query(500, ge=1, le=5000),
    ):
        where = store.StatsFilter(period, since=since, until=until, channel=channel, category=category)
        with deps.session_factory() as session:
            rows = store.list_stats(session, where, limit=limit)
            return StatsResponse.model_validate({"period": period, "items": rows}, from_attributes=True)

    return router


def runs_router(deps: MaintenanceApiDeps) -> APIRouter:
    router = _admin_router(deps)

    @router.get("/v1/admin/maintenance-runs", response_model=MaintenanceRunPageResponse)
    def list_maintenance_runs(
        task: Literal["retention", "rollup", "dead_letter_watchdog"] | None = None,
        limit: int = Query(100, ge=1, le=1000),
        offset: Offset = 0,
    ):
        with deps.session_factory() as session:
            count, rows = store.list_runs(session, task=task, limit=limit, offset=offset)
            return MaintenanceRunPageResponse.model_validate({"count": count, "items": rows}, from_attributes=True)

    return router
