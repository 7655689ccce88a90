"""``herald send-test-email``: a sample sign-in alert through the configured transport.

It is rendered and sent by notifier's own code (``render_signin_alert``, ``build_email_sender``),
so what arrives is what a real alert looks like; only the sign-in it describes is made up.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx
from pydantic import ValidationError

from services.notifier.bootstrap import HTTP_TIMEOUT
from services.notifier.email.message import PermanentEmailError, TransientEmailError
from services.notifier.email.transports.build import build_email_sender
from services.notifier.settings import NotifierSettings
from services.notifier.signin_alerts.rendering import render_signin_alert
from shared.schemas.notifier import SendSignInAlertV1

#: From the documentation range (RFC 5737), so it is nobody's real address.
SAMPLE_IP = "203.0.113.7"
SAMPLE_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


class CannotSend(Exception):
    """Why the test email was not sent, in words for the operator."""


@dataclass(frozen=True)
class Sent:
    transport: str
    #: What the transport gave back: the outbox file, the provider's message id, or None.
    receipt: str | None

    def describe(self, settings: NotifierSettings) -> str:
        if self.transport == "outbox" and self.receipt:
            return f"sent via outbox: {Path(settings.outbox_dir) / self.receipt}"
        if self.transport == "log":
            return "sent via log: nothing left Herald, the email is in the log line above"
        return f"sent via {self.transport}" + (f" (message id {self.receipt})" if self.receipt else "")


def sample_alert(to: str, locale: str | None, now: datetime) -> SendSignInAlertV1:
    job_id = f"test-email-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    try:
        return SendSignInAlertV1(
            job_id=job_id,
            event_id=job_id,
            occurred_at=now,
            user={"id": "herald-test-email", "email": to, "name": "", "locale": locale, "timezone": "UTC"},
            context={"provider": "password", "ip_address": SAMPLE_IP, "user_agent": SAMPLE_USER_AGENT},
        )
    except ValidationError as error:
        reasons = "; ".join(str(detail["msg"]).removeprefix("value is not a valid email address: ") for detail in error.errors())
        raise CannotSend(f"--to {to} is not an email address Herald can send to: {reasons}") from None


def send_test_email(settings: NotifierSettings, to: str, locale: str | None) -> Sent:
    command = sample_alert(to, locale, datetime.now(timezone.utc))
    email = render_signin_alert(
        command, product_name=settings.product_name, default_locale=settings.default_locale, from_header=settings.email_from
    )
    with httpx.Client(timeout=HTTP_TIMEOUT) as http_client:
        try:
            sender = build_email_sender(settings, http_client)
        except ValueError as error:  # a transport setting that cannot work
            raise CannotSend(str(error)) from None
        try:
            return Sent(sender.name, sender.send(email))
        except TransientEmailError as error:
            raise CannotSend(f"{sender.name} could not send it now (worth another try): {error}") from None
        except PermanentEmailError as error:
            raise CannotSend(f"{sender.name} refused it: {error}") from None
        finally:
            sender.close()
