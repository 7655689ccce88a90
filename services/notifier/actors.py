"""Thin Dramatiq entrypoints: validate the message, call the handler, nothing else."""

from functools import wraps

import dramatiq
from pydantic import ValidationError

from services.notifier import maintenance
from services.notifier.digests import handlers as digests
from services.notifier.digests.handlers import DigestDeps
from services.notifier.maintenance.deps import MaintenanceDeps
from services.notifier.notifications import handlers as notifications
from services.notifier.notifications.handlers import NotificationDeps
from services.notifier.signin_alerts import handlers
from services.notifier.signin_alerts.handlers import SignInAlertDeps
from shared.errors import PermanentError
from shared.jobs.retry_policy import retry_on_schedule
from shared.schemas import DeliverNotificationV1, RunMaintenanceV1, SendDigestsV1, SendSignInAlertV1
from shared.topology import DELIVER_NOTIFICATION, RUN_MAINTENANCE, SEND_DIGESTS, SEND_SIGNIN_ALERT, ActorRoute

#: A batch holds up to 5000 digests, one email each: longer than the default attempt limit.
#: A batch cut short is retried, and the retry skips the digests already done.
SEND_DIGESTS_TIME_LIMIT_MS = 15 * 60 * 1000
#: Retention works through a backlog in batches; a run cut short resumes where it stopped.
RUN_MAINTENANCE_TIME_LIMIT_MS = 30 * 60 * 1000


def route_actor(function, route: ActorRoute, **options) -> dramatiq.Actor:
    """Declare ``function`` as the actor ``route`` names, retried on the route's schedule: its
    expected failures by ``retry_on_schedule``, any other by the ScheduledRetries middleware.

    A malformed message, an unrenderable template or a refused address cannot get better by
    waiting: those (PermanentError, ValidationError) are dead at once.
    """

    @wraps(function)
    def on_schedule(payload: dict) -> None:
        with retry_on_schedule(route.backoff):
            function(payload)

    return dramatiq.actor(
        on_schedule,
        actor_name=route.actor_name,
        queue_name=route.queue_name,
        max_retries=route.backoff.max_retries,
        backoff=route.backoff,
        throws=(PermanentError, ValidationError),
        job_type=route.job_type,
        **options,
    )


def declare_signin_alert_actors(broker: dramatiq.Broker, deps: SignInAlertDeps) -> list[dramatiq.Actor]:
    def send_signin_alert(payload: dict) -> None:
        command = SendSignInAlertV1.model_validate(payload)
        handlers.send_signin_alert(command, deps)

    return [route_actor(send_signin_alert, SEND_SIGNIN_ALERT, broker=broker)]


def declare_notification_actors(broker: dramatiq.Broker, deps: NotificationDeps) -> list[dramatiq.Actor]:
    """One actor per priority, each on its own queue, all running the same handler."""

    def deliver_notification(payload: dict) -> None:
        command = DeliverNotificationV1.model_validate(payload)
        notifications.deliver_notification(command, deps)

    return [route_actor(deliver_notification, route, broker=broker) for route in DELIVER_NOTIFICATION.values()]


def declare_scheduled_actors(
    broker: dramatiq.Broker, digest_deps: DigestDeps, maintenance_deps: MaintenanceDeps
) -> list[dramatiq.Actor]:
    """The work the scheduler's events ask for: digests and maintenance, on the bulk queue."""

    def send_digests(payload: dict) -> None:
        command = SendDigestsV1.model_validate(payload)
        digests.send_digests(command, digest_deps)

    def run_maintenance(payload: dict) -> None:
        command = RunMaintenanceV1.model_validate(payload)
        maintenance.run_maintenance(command, maintenance_deps)

    return [
        route_actor(send_digests, SEND_DIGESTS, broker=broker, time_limit=SEND_DIGESTS_TIME_LIMIT_MS),
        route_actor(run_maintenance, RUN_MAINTENANCE, broker=broker, time_limit=RUN_MAINTENANCE_TIME_LIMIT_MS),
    ]
