from typing import Literal

from pydantic import Field

from shared.settings import PlatformSettings, Port


class NotifierSettings(PlatformSettings):
    notifier_port: Port = 8002
    #: Processes ``herald up`` starts, sharing the port (SO_REUSEPORT) and the queues; each has
    #: the worker threads below. One Python process uses one core at most.
    notifier_processes: int = Field(default=1, ge=1)
    email_transport: Literal["outbox", "sendgrid", "smtp", "log"] = "outbox"
    outbox_dir: str = "./var/outbox"
    sendgrid_api_key: str = ""
    sendgrid_api_host: str = "https://api.sendgrid.com"
    smtp_url: str = ""
    email_from: str = "Herald <no-reply@localhost>"
    product_name: str = "Herald"
    default_locale: Literal["en", "mn"] = "en"
    signin_alert_limit_per_hour: int = 10
    #: Worker threads per urgency; critical work has capacity of its own.
    critical_worker_threads: int = 4
    default_worker_threads: int = 2
    bulk_worker_threads: int = 1
    #: Retention, in days: finished (completed, skipped, cancelled) jobs, dead jobs, archived
    #: dead letters, and delivered notifications with their outcomes, email delivery log and
    #: digest deliveries. Outcomes feed the monthly rollup, so they are kept at least 35 days.
    retention_finished_jobs_days: int = Field(default=30, ge=1)
    retention_dead_jobs_days: int = Field(default=90, ge=1)
    retention_dead_letters_days: int = Field(default=90, ge=1)
    retention_notifications_days: int = Field(default=90, ge=35)
    retention_undelivered_notifications_days: int = Field(default=365, ge=35)
    #: The dead-letter watchdog alerts at this many archived dead letters...
    dlq_alert_threshold: int = Field(default=10, ge=1)
    #: ...at most once per this many hours, unless the count has doubled since the last alert.
    dlq_alert_repeat_hours: int = Field(default=24, ge=1)
    #: Where the watchdog emails its alert; empty: the alert is only logged.
    admin_email: str = ""

    @property
    def processes(self) -> int:
        return self.notifier_processes

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.email_transport in ("log", "outbox"):
            problems.append(f"EMAIL_TRANSPORT={self.email_transport} delivers no email")
        return problems + self.transport_problems()

    def transport_problems(self) -> list[str]:
        """What keeps the chosen email transport from working at all (in any environment): the one
        statement of what each transport needs, asked by ``herald``'s preflight and, before it
        builds a sender, by ``build_email_sender``."""
        if self.email_transport == "sendgrid" and not self.sendgrid_api_key:
            return ["EMAIL_TRANSPORT=sendgrid needs SENDGRID_API_KEY"]
        if self.email_transport == "smtp" and not self.smtp_url:
            return ["EMAIL_TRANSPORT=smtp needs SMTP_URL, e.g. smtp://user:pass@host:587?starttls=true"]
        return []
