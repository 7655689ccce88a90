"""Thin Dramatiq entrypoints: validate the message, call the handler, nothing else."""

import dramatiq
from pydantic import ValidationError

from services.notifier import handlers
from services.notifier.handlers import NotifierDeps
from shared.errors import PermanentError
from shared.retry_policy import SIGNIN_ALERT_BACKOFF, retry_on_schedule
from shared.schemas import SendSignInAlertV1
from shared.topology import SEND_SIGNIN_ALERT


def declare_actors(broker: dramatiq.Broker, deps: NotifierDeps) -> list[dramatiq.Actor]:
    def send_signin_alert(payload: dict) -> None:
        command = SendSignInAlertV1.model_validate(payload)
        with retry_on_schedule(SIGNIN_ALERT_BACKOFF):
            handlers.send_signin_alert(command, deps)

    return [
        dramatiq.actor(
            send_signin_alert,
            broker=broker,
            actor_name=SEND_SIGNIN_ALERT.actor_name,
            queue_name=SEND_SIGNIN_ALERT.queue_name,
            max_retries=SIGNIN_ALERT_BACKOFF.max_retries,
            # A malformed message or a refused address cannot get better by waiting.
            throws=(PermanentError, ValidationError),
            job_type=SEND_SIGNIN_ALERT.job_type,
        )
    ]
