"""Chooses the email transport named by ``EMAIL_TRANSPORT``; called from the composition root."""

import httpx

from services.notifier.email.message import EmailSender
from services.notifier.email.transports.log import LogSender
from services.notifier.email.transports.outbox import OutboxSender
from services.notifier.email.transports.sendgrid import SendGridSender
from services.notifier.email.transports.smtp import SmtpSender
from services.notifier.settings import NotifierSettings


def build_email_sender(settings: NotifierSettings, http_client: httpx.Client) -> EmailSender:
    """Raises ``ValueError`` for a transport its settings cannot make work (``transport_problems``,
    the one place that says what each transport needs)."""
    problems = settings.transport_problems()
    if problems:
        raise ValueError("; ".join(problems))
    transport = settings.email_transport
    if transport == "sendgrid":
        return SendGridSender(settings.sendgrid_api_key, settings.sendgrid_api_host, http_client)
    if transport == "smtp":
        return SmtpSender(settings.smtp_url)
    if transport == "outbox":
        return OutboxSender(settings.outbox_dir)
    if transport == "log":
        return LogSender()
    raise ValueError(f"unknown EMAIL_TRANSPORT {transport!r}; expected outbox, sendgrid, smtp or log")
