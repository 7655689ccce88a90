"""Settings every service shares, read from the environment and ``.env``.

Built in a service's composition root (``bootstrap.py``), never at import time. Each service
extends ``PlatformSettings`` with its own fields in its own ``settings.py``.

A bad value is reported by ``settings_problems``: one line per variable, naming it, the value
given and what is allowed (``NOTIFIER_PORT=abc is not valid: expected an integer (1-65535)``).
"""

import re
import shlex
from typing import Annotated, Literal, TypeVar, get_args, get_origin
from urllib.parse import urlsplit

from annotated_types import Ge, Le
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "rabbitmq"}
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")
AMQP_SCHEMES = ("amqp", "amqps")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Settings whose values are never repeated in a message.
_SECRET_WORDS = ("key", "token", "password", "secret")

Port = Annotated[int, Field(ge=1, le=65535)]


class UnsafeSettings(ValueError):
    """Raised when ``HERALD_ENV=production`` meets values that are only fit for development."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("refusing to start in production: " + "; ".join(problems))
        self.problems = problems


class InvalidSettings(Exception):
    """Settings that cannot be used, with one line per problem for the operator."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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
    max_event_bytes: int = Field(default=64 * 1024, ge=1)

    _split_keys = field_validator("ingress_api_keys", mode="before")(comma_separated)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        if level.upper() not in LOG_LEVELS:
            raise ValueError("expected one of " + ", ".join(LOG_LEVELS))
        return level.upper()

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        scheme = urlsplit(url).scheme if "://" in url else ""
        if scheme not in DATABASE_SCHEMES:
            raise ValueError("unsupported URL: expected postgresql://user:password@host/database or sqlite:///path")
        # "postgresql://" would make SQLAlchemy look for psycopg2; Herald ships psycopg 3.
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @field_validator("amqp_url")
    @classmethod
    def _supported_broker(cls, url: str) -> str:
        if "://" not in url or urlsplit(url).scheme not in AMQP_SCHEMES:
            raise ValueError("unsupported URL: expected amqp://user:password@host:5672/vhost (or amqps://)")
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
                raise UnsafeSettings(problems)
        return self


AnySettings = TypeVar("AnySettings", bound=BaseSettings)


def load_settings(settings_class: type[AnySettings]) -> AnySettings:
    """The settings from the environment and ``.env``, or InvalidSettings naming every bad one."""
    try:
        return settings_class()
    except ValidationError as error:
        raise InvalidSettings(settings_problems(error, settings_class)) from None


def settings_problems(error: ValidationError, settings_class: type[BaseSettings]) -> list[str]:
    """One line per problem in ``error``: the variable, the value given and what is allowed."""
    problems = []
    for detail in error.errors():
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, UnsafeSettings):
            problems += [f"refusing to start in production: {problem}" for problem in cause.problems]
        elif not detail["loc"]:
            problems.append(str(detail["msg"]).removeprefix("Value error, "))
        else:
            name = str(detail["loc"][0])
            field = settings_class.model_fields.get(name)
            variable = name.upper()
            problems.append(f"{variable}={_shown_value(variable, detail['input'])} is not valid: {_allowed(field, detail)}")
    return problems


def _shown_value(variable: str, value: object) -> str:
    if any(word in variable.lower() for word in _SECRET_WORDS):
        return "(hidden)"
    if isinstance(value, str):
        return shlex.quote(without_passwords(value)) if value else "''"
    return str(value)


def without_passwords(text: str) -> str:
    """``text`` with the password of every URL in it replaced: an error never repeats a credential."""
    return _URL_PASSWORD.sub(r"\1***@", text)


_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@/\s]*@")


def _allowed(field: FieldInfo | None, detail) -> str:
    """What the field accepts, in words; a validator's own reason when it raised one."""
    if detail["type"] == "value_error":
        return str(detail["msg"]).removeprefix("Value error, ")
    annotation = field.annotation if field else None
    if get_origin(annotation) is Literal:
        return "expected one of " + ", ".join(str(choice) for choice in get_args(annotation))
    if annotation is int:
        return "expected an integer" + _bounds(field)
    return str(detail["msg"])[0].lower() + str(detail["msg"])[1:]


def _bounds(field: FieldInfo) -> str:
    low = next((rule.ge for rule in field.metadata if isinstance(rule, Ge)), None)
    high = next((rule.le for rule in field.metadata if isinstance(rule, Le)), None)
    if low is not None and high is not None:
        return f" ({low}-{high})"
    if low is not None:
        return f" (at least {low})"
    if high is not None:
        return f" (at most {high})"
    return ""
