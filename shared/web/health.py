"""``/healthz`` and ``/readyz``, and the readiness checks of the dependencies every service has."""

from collections.abc import Callable
from typing import Literal

import pika
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from shared.broker import with_connection_defaults
from shared.db import ping
from shared.web.responses import ResponseModel


class Liveness(ResponseModel):
    status: Literal["ok"]


class Readiness(ResponseModel):
    status: Literal["ready", "unavailable"]
    #: Each dependency: ``up``, or ``down: <error>``.
    checks: dict[str, str]


def install_health_routes(app: FastAPI, checks: dict[str, Callable[[], None]]) -> None:
    """``/healthz``: the process answers. ``/readyz``: each dependency's state, 503 when one is down."""

    @app.get("/healthz", response_model=Liveness)
    def healthz():
        return {"status": "ok"}

    @app.get(
        "/readyz",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "A dependency is down"}},
    )
    def readyz():
        states = {}
        for name, check in checks.items():
            try:
                check()
                states[name] = "up"
            except Exception as error:  # a readiness probe reports every failure, whatever it is
                states[name] = f"down: {type(error).__name__}: {error}"
        ready = all(state == "up" for state in states.values())
        return JSONResponse({"status": "ready" if ready else "unavailable", "checks": states}, status_code=200 if ready else 503)


def database_check(engine: Engine):
    return lambda: ping(engine)


def broker_check(amqp_url: str):
    def check() -> None:
        parameters = pika.URLParameters(with_connection_defaults(amqp_url))
        parameters.socket_timeout = 2
        parameters.connection_attempts = 1
        pika.BlockingConnection(parameters).close()

    return check


def consumer_check(consumer):
    def check() -> None:
        if not consumer.connected.is_set():
            raise RuntimeError(f"{consumer.name} is not consuming")

    return check
