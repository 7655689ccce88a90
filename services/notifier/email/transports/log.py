"""Logs each email instead of sending it: for development without any mail sink."""

import logging

from services.notifier.email.message import OutgoingEmail

logger = logging.getLogger("herald.email")


class LogSender:
    name = "log"

    def send(self, email: OutgoingEmail) -> str | None:
        # The project's log formatter masks the address; this module only has to say it.
        logger.info(
            "email not sent (EMAIL_TRANSPORT=log) to=%s subject=%r idempotency_key=%s",
            email.to_address,
            email.subject,
            email.idempotency_key,
        )
        return None

    def close(self) -> None:
        """Nothing to release."""
