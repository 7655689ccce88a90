"""What every Herald HTTP API shares: problem+json errors, health routes, the admin bearer token."""

import hmac
from collections.abc import Callable

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, headers: dict | None = None, **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, **({"detail": detail} if detail else {}), **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def validation_errors(errors) -> list[dict]:
    """Pydantic errors as a client can act on them: where, what, and the message."""
    return [
        {"loc": [str(part) for part in error["loc"]], "type": error["type"], "msg": error["msg"]} for error in errors
    ]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException):
        return problem(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, error: RequestValidationError):
        return problem(422, "Invalid request", errors=validation_errors(error.errors()))


def install_health_routes(app: FastAPI, checks: dict[str, Callable[[], None]]) -> None:
    """``/healthz``: the process answers. ``/readyz``: each dependency's state, 503 when one is down."""

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
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


def require_admin(admin_token: str) -> Callable[[Request], None]:
    """A FastAPI dependency: ``Authorization: Bearer <ADMIN_TOKEN>`` when a token is configured."""

    def check(request: Request) -> None:
        if not admin_token:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), admin_token.encode()):
            raise HTTPException(401, "Missing or wrong admin token", headers={"WWW-Authenticate": "Bearer"})

    return check
