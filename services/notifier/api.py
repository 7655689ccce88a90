"""notifier's HTTP API: job status, and the dead-letter queue for operators. Thin routes."""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, FastAPI, HTTPException, Query
from prometheus_client import CollectorRegistry

from shared.jobs.dead_letters import DeadLetterArchive
from shared.jobs.ledger import JobLedger, JobStatus, JobView
from shared.topology import DELIVER_NOTIFICATION, RUN_MAINTENANCE, SEND_DIGESTS, SEND_SIGNIN_ALERT
from shared.web.event_route import require_api_key
from shared.web.http import install_health_routes, install_problem_handlers, require_admin
from shared.web.metrics import install_metrics_route

#: Every kind of job Herald accepts for an incoming event; each job's id is derived from the
#: event's id (a digest batch's from its batch_id) and the job type, so it can be found from it.
EVENT_JOB_ROUTES = (SEND_SIGNIN_ALERT, *DELIVER_NOTIFICATION.values(), SEND_DIGESTS, RUN_MAINTENANCE)


def job_ids_for_event(event_id: str) -> list[str]:
    """The ids the jobs of ``event_id`` would have, one per job type."""
    return sorted({route.job_id_for(event_id) for route in EVENT_JOB_ROUTES})


@dataclass
class NotifierApiDeps:
    ledger: JobLedger
    dead_letters: DeadLetterArchive
    replay_publish: Callable[[str, bytes], None]
    admin_token: str
    #: ``INGRESS_API_KEYS``: when set, a job's status needs one of them (DESIGN §4).
    api_keys: list[str]
    readiness_checks: dict[str, Callable[[], None]]
    metrics_registry: CollectorRegistry


def job_view(job: JobView) -> dict:
    return {
        "job_id": job.job_id,
        "type": job.type,
        "status": job.status,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "last_error": job.last_error,
        "reason": job.reason,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "finished_at": job.finished_at,
    }


def build_app(deps: NotifierApiDeps) -> FastAPI:
    app = FastAPI(title="Herald notifier", version="1")
    install_problem_handlers(app)
    install_health_routes(app, deps.readiness_checks)
    install_metrics_route(app, deps.metrics_registry)
    admin = [Depends(require_admin(deps.admin_token))]
    ingress = [Depends(require_api_key(deps.api_keys))]

    @app.get("/v1/jobs", dependencies=ingress)
    def find_jobs(event_id: str = Query(min_length=1, max_length=128, description="the event's event_id")):
        jobs = deps.ledger.get_many(job_ids_for_event(event_id))
        return {"event_id": event_id, "count": len(jobs), "items": [job_view(job) for job in jobs]}

    @app.get("/v1/jobs/{job_id}", dependencies=ingress)
    def get_job(job_id: str):
        job = deps.ledger.get(job_id)
        if job is None:
            raise HTTPException(404, f"No job {job_id}")
        return job_view(job)

    @app.get("/v1/admin/jobs", dependencies=admin)
    def list_jobs(
        status: JobStatus | None = None,
        type: str | None = Query(None, max_length=64),
        subject_id: str | None = Query(None, max_length=128, description="the user the job is about"),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ):
        count, jobs = deps.ledger.list_page(status=status, job_type=type, subject_id=subject_id, limit=limit, offset=offset)
        return {"count": count, "items": [job_view(job) for job in jobs]}

    @app.post("/v1/admin/jobs/{job_id}/cancel", dependencies=admin)
    def cancel_job(job_id: str):
        job = deps.ledger.cancel(job_id)
        if job is None:
            raise HTTPException(404, f"No job {job_id}")
        if job.status != JobStatus.CANCELLED:
            raise HTTPException(409, f"Job {job_id} is {job.status}: only a job waiting to run can be cancelled")
        return job_view(job)

    @app.get("/v1/admin/dlq", dependencies=admin)
    def list_dead_letters(limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)):
        count, items = deps.dead_letters.list_page(limit=limit, offset=offset)
        return {
            "count": count,
            "items": [
                {
                    "id": item.id,
                    "job_id": item.job_id,
                    "type": item.type,
                    "queue": item.queue_name,
                    "reason": item.reason,
                    "last_error": item.last_error,
                    "attempts": item.attempts,
                    "correlation_id": item.correlation_id,
                    "dead_at": item.dead_at,
                }
                for item in items
            ],
        }

    @app.post("/v1/admin/dlq/{dead_letter_id}/replay", status_code=202, dependencies=admin)
    def replay_dead_letter(dead_letter_id: int):
        replayed = deps.dead_letters.replay(dead_letter_id, deps.replay_publish)
        if replayed is None:
            raise HTTPException(404, f"No dead letter {dead_letter_id}")
        return {"id": replayed.id, "job_id": replayed.job_id, "queue": replayed.queue_name, "status": "enqueued"}

    @app.delete("/v1/admin/dlq/{dead_letter_id}", dependencies=admin)
    def purge_dead_letter(dead_letter_id: int):
        if deps.dead_letters.purge([dead_letter_id]) == 0:
            raise HTTPException(404, f"No dead letter {dead_letter_id}")
        return {"purged": 1}

    @app.delete("/v1/admin/dlq", dependencies=admin)
    def purge_all_dead_letters():
        return {"purged": deps.dead_letters.purge()}

    return app
