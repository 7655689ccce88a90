"""Chooses the email transport named by ``EMAIL_TRANSPORT``; called from the composition root."""

import httpx

from services.notifier.email.message import EmailSender
from services.notifier.email.transports.log import LogSender
from services.notifier.email.transports.outbox import OutboxSender
from services.notifier.email.transports.sendgrid import SendGridSender
from services.notifier.email.transports.smtp import SmtpSender
from services.notifier.settings import NotifierSettings


def build_email_sender(settings: NotifierSettings, http_client: httpx.Client) -> EmailSender:
    transport = settings.email_transport
    if transport == "sendgrid":
        if not settings.sendgrid_api_key:
            raise ValueError("EMAIL_TRANSPORT=sendgrid needs SENDGRID_API_KEY")
        return SendGridSender(settings.sendgrid_api_key, settings.sendgrid_api_host, http_client)
    if transport == "smtp":
        if not settings.smtp_url:
            raise ValueError("EMAIL_TRANSPORT=smtp needs SMTP_URL, e.g. smtp://user:pass@host:587?starttls=true")
        return SmtpSender(settings.smtp_url)
    if transport == "outbox":
        return OutboxSender(settings.outbox_dir)
    if transport == "log":
        return LogSender()
    raise ValueError(f"unknown EMAIL_TRANSPORT {transport!r}; expected outbox, sendgrid, smtp or log")
