"""problem+json errors on every Herald HTTP API: ``problem()``, the exception handlers, and the two
middlewares that answer a bad request line and an unexpected error in the same shape."""

import logging
import re
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"

logger = logging.getLogger("herald.http")


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

    app.add_middleware(UnexpectedErrorsAnswered)
    app.add_middleware(RequestLineChecked)


#: What no path or query value of Herald's means, and PostgreSQL cannot store or compare (NUL).
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class RequestLineChecked:
    """Refuses, with a 400, a path or query that is not UTF-8 or holds a control character,
    before any route passes it to the database (a NUL in a job id was a 500 on PostgreSQL)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem_with_it = _request_line_problem(scope.get("raw_path") or scope["path"].encode(), scope["query_string"])
            if problem_with_it:
                await problem(400, "Invalid request", problem_with_it)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _request_line_problem(raw_path: bytes, query_string: bytes) -> str | None:
    for part, raw in (("path", raw_path), ("query", query_string.replace(b"+", b" "))):
        try:
            text = unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return f"the {part} is not UTF-8"
        if _CONTROL_CHARACTER.search(text):
            return f"the {part} holds a control character"
    return None


class UnexpectedErrorsAnswered:
    """Answers an exception no handler took with a problem+json 500, logs it with its
    traceback, and ends it there, so the keep-alive connection stays usable.

    Not an ``exception_handler(Exception)``: Starlette's ServerErrorMiddleware, which runs those,
    re-raises the exception after answering; uvicorn then closes the connection under the
    client, whose next request on it is reset. This middleware sits inside it (outside the
    routes and the handlers above) and does not re-raise. When the answer had already started,
    the only honest end is to let the server log it and close the connection: it goes on.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer_started = False

        async def send_noting_the_start(message: Message) -> None:
            nonlocal answer_started
            answer_started = answer_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_the_start)
        except Exception:
            if answer_started:  # uvicorn logs it and closes the connection
                raise
            logger.exception(
                "unexpected error answering a request", extra={"method": scope["method"], "path": scope["path"]}
            )
            await problem(500, "Internal Server Error", "The server met an unexpected error; it is logged.")(
                scope, receive, send
            )
