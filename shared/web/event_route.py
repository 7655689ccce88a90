"""``POST`` an event over HTTP: the same validation, idempotency and answers on every service.

202 ``{"event_id","job_id","status":"enqueued"}``; the same event_id again: 200 with the original
job_id, the job's status now (``completed`` for one done long ago) and ``"duplicate": true``; 422
invalid (problem+json with each error); 401 bad key; 413 too large; 503 with Retry-After when the
broker cannot confirm (never a 202 that is later lost).

The route reads the raw body itself (to refuse an oversized one before reading it all, and to
answer in problem+json), so FastAPI does not know its model: ``shared.web.event_docs`` tells /docs.
"""

from collections.abc import Callable

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from shared.correlation import correlation_scope
from shared.errors import PermanentError
from shared.jobs.intake import OUTAGE_ERRORS, Acceptance
from shared.jobs.ledger import JobStatus
from shared.schemas import Message
from shared.web.auth import valid_api_key
from shared.web.event_docs import event_openapi
from shared.web.problems import problem, validation_errors

CORRELATION_HEADER = "X-Correlation-ID"
#: Seconds a client should wait after a 503 before posting the same event again.
RETRY_AFTER_S = 5
#: Events in hand at once per route, each on a thread, waiting for the transaction that takes it
#: (shared.jobs.intake commits those that wait together as one). More would only queue for the GIL.
ACCEPT_CONCURRENCY = 16


class BodyTooLarge(Exception):
    pass


async def read_limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def install_event_route(
    router: APIRouter,
    path: str,
    model: type[Message],
    accept: Callable[[Message], Acceptance],
    *,
    job_status: Callable[[str], str | None],
    example: dict,
    api_keys: list[str],
    max_body_bytes: int,
    count: Callable[[str, str], None],
) -> None:
    """``POST path`` validates the body as ``model`` and calls ``accept`` (blocking) with it.

    ``accept`` may raise ``PermanentError`` for an event that is well-formed but cannot be
    served (an unknown template): a 422 with its message. ``job_status`` (blocking) reads a
    job's status now, for the answer to a duplicate. ``example`` is the body ``/docs`` offers.
    """

    limiter = anyio.CapacityLimiter(ACCEPT_CONCURRENCY)

    def accept_and_report(event: Message) -> tuple[Acceptance, str]:
        acceptance = accept(event)
        # A new job is enqueued by definition; a duplicate may have finished long ago.
        status = job_status(acceptance.job_id) if acceptance.duplicate else None
        return acceptance, status or JobStatus.ENQUEUED.value

    @router.post(
        path,
        status_code=202,
        summary=f"Send a {example['type']} event",
        openapi_extra=event_openapi(model, example, max_body_bytes, correlation_header=CORRELATION_HEADER),
    )
    async def post_event(request: Request):
        if not valid_api_key(request.headers.get("x-api-key"), api_keys):
            count("http", "refused")
            return problem(401, "Missing or wrong API key", headers={"WWW-Authenticate": "X-API-Key"})
        try:
            body = await read_limited_body(request, max_body_bytes)
        except BodyTooLarge:
            count("http", "refused")
            return problem(413, "Event too large", f"An event may be at most {max_body_bytes} bytes")
        try:
            event = model.model_validate_json(body)
        except ValidationError as error:
            count("http", "invalid")
            return problem(422, "Invalid event", errors=validation_errors(error.errors()))

        with correlation_scope(request.headers.get(CORRELATION_HEADER)) as correlation_id:
            try:
                acceptance, status = await anyio.to_thread.run_sync(accept_and_report, event, limiter=limiter)
            except PermanentError as error:
                count("http", "invalid")
                return problem(422, "Invalid event", str(error))
            except OUTAGE_ERRORS as error:
                count("http", "unavailable")
                return problem(
                    503,
                    "Not accepted, try again",
                    f"{type(error).__name__}: the event was not recorded",
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                )
        answer = {"event_id": acceptance.event_id, "job_id": acceptance.job_id, "status": status}
        headers = {CORRELATION_HEADER: correlation_id}
        count("http", "duplicate" if acceptance.duplicate else "accepted")
        if acceptance.duplicate:
            return JSONResponse({**answer, "duplicate": True}, status_code=200, headers=headers)
        return JSONResponse(answer, status_code=202, headers=headers)
