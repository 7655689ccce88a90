"""Commands to notifier. Enqueued as Dramatiq messages whose names come from ``shared.topology``."""

from typing import Literal

from pydantic import Field

from shared.schemas.auth import SignInContext, User
from shared.schemas.base import HeaderSafeText, Message, OccurredAt


class SendSignInAlertV1(Message):
    """Alert a user that their account was signed in to."""

    version: Literal[1] = 1
    job_id: HeaderSafeText = Field(min_length=1, max_length=64)
    event_id: HeaderSafeText = Field(min_length=1, max_length=128)
    occurred_at: OccurredAt
    user: User
    context: SignInContext
