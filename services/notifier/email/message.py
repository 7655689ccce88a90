"""An email ready to send, and the Protocol every transport implements."""

from dataclasses import dataclass, field
from typing import Protocol

from shared.errors import PermanentError, TransientError


class TransientEmailError(TransientError):
    """The transport could not deliver now; a later attempt may succeed."""


class PermanentEmailError(PermanentError):
    """The transport refused this email for good (bad address, rejected request)."""


@dataclass(frozen=True)
class OutgoingEmail:
    to_address: str
    to_name: str
    from_header: str  # e.g. "Herald <no-reply@localhost>"
    subject: str
    text: str
    html: str
    #: Stable per job (the job id): transports pass it on so a provider or mailbox can
    #: recognise a redelivered duplicate (SMTP Message-ID, SendGrid custom_args).
    idempotency_key: str
    headers: dict[str, str] = field(default_factory=dict)


class EmailSender(Protocol):
    """Sends one email. Raises ``TransientEmailError`` or ``PermanentEmailError``; never both
    swallows a failure and reports success."""

    name: str

    def send(self, email: OutgoingEmail) -> str | None:
        """Deliver ``email``; return the provider's message id when it gives one."""
        ...

    def close(self) -> None: ...
