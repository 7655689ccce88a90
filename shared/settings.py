"""Settings every service shares, read from the environment and ``.env``.

Built in a service's composition root (``bootstrap.py``), never at import time. Each service
extends ``PlatformSettings`` with its own fields in its own ``settings.py``.
"""

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "rabbitmq"}


class UnsafeSettings(ValueError):
    """Raised when ``HERALD_ENV=production`` meets a value that is only fit for development."""


def comma_separated(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CommaSeparated = Annotated[list[str], NoDecode]


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    herald_env: Literal["development", "test", "production"] = "development"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    database_url: str = "sqlite:///./var/herald.db"
    http_host: str = "127.0.0.1"
    admin_token: str = ""
    log_level: str = "INFO"
    #: ``auto``: readable text when stderr is a terminal, JSON lines otherwise.
    log_format: Literal["auto", "text", "json"] = "auto"
    #: When set, every route that takes events or requests from other services
    #: (``POST /v1/events``, ``/v1/notifications``, ``/v1/users/...``, ``/v1/digest-schedules``)
    #: needs ``X-API-Key``.
    ingress_api_keys: CommaSeparated = []
    #: Largest request body an event route reads before answering 413.
    max_event_bytes: int = 64 * 1024

    _split_keys = field_validator("ingress_api_keys", mode="before")(comma_separated)

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, url: str) -> str:
        # "postgresql://" would make SQLAlchemy look for psycopg2; Herald ships psycopg 3.
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def processes(self) -> int:
        """How many processes of this service ``herald up`` starts; see the services' settings."""
        return 1

    @property
    def is_production(self) -> bool:
        return self.herald_env == "production"

    def production_problems(self) -> list[str]:
        """What makes these settings unsafe for production; subclasses add their own."""
        problems = []
        if not self.ingress_api_keys:
            problems.append("INGRESS_API_KEYS is empty: anyone could post events")
        if not self.admin_token:
            problems.append("ADMIN_TOKEN is empty: the admin API would be open")
        broker = urlsplit(self.amqp_url)
        if (broker.username in (None, "", "guest")) and broker.hostname not in LOCAL_HOSTS:
            problems.append("AMQP_URL uses the guest account off localhost")
        return problems

    @model_validator(mode="after")
    def _enforce_production_safety(self):
        if self.is_production:
            problems = self.production_problems()
            if problems:
                raise UnsafeSettings("refusing to start in production: " + "; ".join(problems))
        return self
