"""Commands to notifier. Enqueued as Dramatiq messages whose names come from ``shared.topology``."""

from typing import Literal

from pydantic import AwareDatetime, Field

from shared.schemas.auth import SignInContext, User
from shared.schemas.base import Message


class SendSignInAlertV1(Message):
    """Alert a user that their account was signed in to."""

    version: Literal[1] = 1
    job_id: str = Field(min_length=1, max_length=64)
    event_id: str = Field(min_length=1, max_length=128)
    occurred_at: AwareDatetime
    user: User
    context: SignInContext
