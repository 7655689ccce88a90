"""scheduler's HTTP API: health for now; schedules come with the digest work."""

from collections.abc import Callable

from fastapi import FastAPI

from shared.http import install_health_routes, install_problem_handlers


def build_app(readiness_checks: dict[str, Callable[[], None]]) -> FastAPI:
    app = FastAPI(title="Herald scheduler", version="1")
    install_problem_handlers(app)
    install_health_routes(app, readiness_checks)
    return app
