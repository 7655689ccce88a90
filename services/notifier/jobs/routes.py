"""``/v1/jobs`` (a job's status, for the service that posted its event) and, for operators,
``/v1/admin/jobs`` and ``/v1/admin/dlq`` (the dead-letter queue). Thin routes over the ledger and
the dead-letter archive."""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import AliasChoices, Field

from shared.jobs.dead_letters import DeadLetterArchive
from shared.jobs.ledger import JobLedger, JobStatus
from shared.topology import DELIVER_NOTIFICATION, RUN_MAINTENANCE, SEND_DIGESTS, SEND_SIGNIN_ALERT
from shared.web.auth import require_admin, require_api_key
from shared.web.params import Offset, RowId
from shared.web.responses import ResponseModel, Timestamp

#: Every kind of job Herald accepts for an incoming event; each job's id is derived from the
#: event's id (a digest batch's from its batch_id) and the job type, so it can be found from it.
EVENT_JOB_ROUTES = (SEND_SIGNIN_ALERT, *DELIVER_NOTIFICATION.values(), SEND_DIGESTS, RUN_MAINTENANCE)


def job_ids_for_event(event_id: str) -> list[str]:
    """The ids the jobs of ``event_id`` would have, one per job type."""
    return sorted({route.job_id_for(event_id) for route in EVENT_JOB_ROUTES})


@dataclass
class JobsApiDeps:
    ledger: JobLedger
    dead_letters: DeadLetterArchive
    replay_publish: Callable[[str, bytes], None]
    admin_token: str
    #: ``INGRESS_API_KEYS``: when set, a job's status needs one of them (DESIGN §4).
    api_keys: list[str]


class JobResponse(ResponseModel):
    """A job as the ledger has it (addresses and IPs in its errors masked)."""

    job_id: str
    type: str
    status: JobStatus
    attempts: int
    max_attempts: int
    last_error: str | None
    reason: str | None
    created_at: Timestamp
    updated_at: Timestamp
    finished_at: Timestamp | None


class JobsOfEventResponse(ResponseModel):
    event_id: str
    count: int
    items: list[JobResponse]


class JobPageResponse(ResponseModel):
    count: int
    items: list[JobResponse]


class DeadLetterResponse(ResponseModel):
    id: int
    job_id: str | None
    type: str | None
    queue: str = Field(validation_alias=AliasChoices("queue", "queue_name"))
    reason: str
    last_error: str | None
    attempts: int
    correlation_id: str | None
    dead_at: Timestamp


class DeadLetterPageResponse(ResponseModel):
    count: int
    items: list[DeadLetterResponse]


class ReplayResponse(ResponseModel):
    id: int
    job_id: str | None
    queue: str = Field(validation_alias=AliasChoices("queue", "queue_name"))
    status: JobStatus = JobStatus.ENQUEUED


class PurgeResponse(ResponseModel):
    purged: int


def jobs_routers(deps: JobsApiDeps) -> list[APIRouter]:
    return [job_status_router(deps), admin_jobs_router(deps), dead_letters_router(deps)]


def _no_job(job_id: str) -> HTTPException:
    return HTTPException(404, f"No job {job_id}")


def job_status_router(deps: JobsApiDeps) -> APIRouter:
    router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[Depends(require_api_key(deps.api_keys))])

    @router.get("", response_model=JobsOfEventResponse)
    def find_jobs(event_id: str = Query(min_length=1, max_length=128, description="the event's event_id")):
        jobs = deps.ledger.get_many(job_ids_for_event(event_id))
        return JobsOfEventResponse(event_id=event_id, count=len(jobs), items=jobs)

    @router.get("/{job_id}", response_model=JobResponse)
    def get_job(job_id: str):
        job = deps.ledger.get(job_id)
        if job is None:
            raise _no_job(job_id)
        return job

    return router


def admin_jobs_router(deps: JobsApiDeps) -> APIRouter:
    router = APIRouter(
        prefix="/v1/admin/jobs", tags=["admin: jobs"], dependencies=[Depends(require_admin(deps.admin_token))]
    )

    @router.get("", response_model=JobPageResponse)
    def list_jobs(
        status: JobStatus | None = None,
        type: str | None = Query(None, max_length=64),
        subject_id: str | None = Query(None, max_length=128, description="the user the job is about"),
        limit: int = Query(100, ge=1, le=1000),
        offset: Offset = 0,
    ):
        count, jobs = deps.ledger.list_page(status=status, job_type=type, subject_id=subject_id, limit=limit, offset=offset)
        return JobPageResponse(count=count, items=jobs)

    @router.post("/{job_id}/cancel", response_model=JobResponse)
    def cancel_job(job_id: str):
        job = deps.ledger.cancel(job_id)
        if job is None:
            raise _no_job(job_id)
        if job.status != JobStatus.CANCELLED:
            raise HTTPException(409, f"Job {job_id} is {job.status}: only a job waiting to run can be cancelled")
        return job

    return router


def dead_letters_router(deps: JobsApiDeps) -> APIRouter:
    router = APIRouter(
        prefix="/v1/admin/dlq", tags=["admin: dead letters"], dependencies=[Depends(require_admin(deps.admin_token))]
    )

    def no_dead_letter(dead_letter_id: int) -> HTTPException:
        return HTTPException(404, f"No dead letter {dead_letter_id}")

    @router.get("", response_model=DeadLetterPageResponse)
    def list_dead_letters(limit: int = Query(100, ge=1, le=1000), offset: Offset = 0):
        count, items = deps.dead_letters.list_page(limit=limit, offset=offset)
        return DeadLetterPageResponse(count=count, items=items)

    @router.post("/{dead_letter_id}/replay", status_code=202, response_model=ReplayResponse)
    def replay_dead_letter(dead_letter_id: RowId):
        replayed = deps.dead_letters.replay(dead_letter_id, deps.replay_publish)
        if replayed is None:
            raise no_dead_letter(dead_letter_id)
        return replayed

    @router.delete("/{dead_letter_id}", response_model=PurgeResponse)
    def purge_dead_letter(dead_letter_id: RowId):
        if deps.dead_letters.purge([dead_letter_id]) == 0:
            raise no_dead_letter(dead_letter_id)
        return PurgeResponse(purged=1)

    @router.delete("", response_model=PurgeResponse)
    def purge_all_dead_letters():
        return PurgeResponse(purged=deps.dead_letters.purge())

    return router
