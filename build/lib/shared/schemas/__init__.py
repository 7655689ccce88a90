"""Frozen, versioned pydantic models of every message Herald carries.

``MESSAGES`` names each one as ``<name>.v<version>``; its JSON Schema is committed under
``shared/schemas/json/`` (``python -m shared.schemas.export`` regenerates it).
"""

from shared.schemas.auth import SignInContext, User, UserSignedInV1
from shared.schemas.base import Message
from shared.schemas.notifier import SendSignInAlertV1

MESSAGES: dict[str, type[Message]] = {
    "auth.user.signed_in.v1": UserSignedInV1,
    "notifier.send_signin_alert.v1": SendSignInAlertV1,
}

__all__ = ["MESSAGES", "Message", "SendSignInAlertV1", "SignInContext", "User", "UserSignedInV1"]
