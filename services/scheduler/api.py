"""scheduler's HTTP API: the recurring schedules with their next runs, and digest schedules."""

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from services.scheduler.recurring.schedules import RecurringSchedule
from shared.web.http import install_health_routes, install_problem_handlers
from shared.web.metrics import install_metrics_route


def schedule_view(schedule: RecurringSchedule, next_run_at) -> dict:
    return {
        "name": schedule.name,
        "schedule": schedule.spec,
        "timezone": schedule.timezone,
        "emits": schedule.emits,
        "task": schedule.task,
        "period": schedule.period,
        "next_run_at": next_run_at,
    }


def build_app(
    readiness_checks: dict[str, Callable[[], None]],
    recurring: Callable[[], list[tuple[RecurringSchedule, object]]],
    metrics_registry: CollectorRegistry,
    routers: list[APIRouter] = (),
) -> FastAPI:
    """``recurring()`` gives each recurring schedule with its next run time as the scheduler has it."""
    app = FastAPI(title="Herald scheduler", version="1")
    install_problem_handlers(app)
    install_health_routes(app, readiness_checks)
    install_metrics_route(app, metrics_registry)
    for router in routers:
        app.include_router(router)

    @app.get("/v1/schedules")
    def list_recurring_schedules():
        return {"items": [schedule_view(schedule, next_run_at) for schedule, next_run_at in recurring()]}

    return app
