"""The parts every service's composition root builds the same way, checked at start-up.

A service that cannot reach its database or RabbitMQ, or finds the schema behind the code,
stops at once with one clear line (``StartupError``) instead of failing later, per request.
"""

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

import pika.exceptions
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from pika.adapters.blocking_connection import BlockingChannel
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shared.amqp.consumer import QueueConsumer
from shared.broker import build_broker
from shared.clock import Clock, SystemClock
from shared.db import build_engine, build_session_factory
from shared.jobs.dead_letters import DeadLetterArchive
from shared.jobs.ledger import JobLedger
from shared.settings import PlatformSettings
from shared.topology import IngressQueue, dead_letter_queue
from shared.web.health import broker_check, database_check

#: Whether the database's schema is the one the code expects (it connects, so it checks the
#: database is reachable too). Given by the caller: the migrations live above the services, and
#: shared/ imports no service.
SchemaCheck = Callable[[Engine], bool]


class StartupError(Exception):
    """A dependency is missing at start-up; the message (one line per problem) is meant for the
    operator, as is."""


@dataclass
class Platform:
    settings: PlatformSettings
    clock: Clock
    engine: Engine
    session_factory: sessionmaker[Session]
    ledger: JobLedger
    dead_letters: DeadLetterArchive
    broker: RabbitmqBroker
    #: What the service exposes at /metrics (worker metrics too, if it runs workers).
    metrics_registry: CollectorRegistry

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        """The checks of what every service depends on; a service adds its consumers'."""
        return {"database": database_check(self.engine), "broker": broker_check(self.settings.amqp_url)}

    def close(self) -> None:
        self.broker.close()
        self.engine.dispose()


def safe_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def check_dependencies(settings: PlatformSettings, engine: Engine, schema_is_current: SchemaCheck) -> None:
    """Raise StartupError, one line per problem, unless the database (at the current schema) and
    RabbitMQ both answer."""
    problems = dependency_problems(settings, engine, schema_is_current)
    if problems:
        raise StartupError("\n".join(problems))


def dependency_problems(
    settings: PlatformSettings, engine: Engine, schema_is_current: SchemaCheck, *, schema_must_be_current: bool = True
) -> list[str]:
    """What keeps the database or RabbitMQ from serving Herald, in words; both are checked."""
    problems = []
    try:
        if not schema_is_current(engine) and schema_must_be_current:  # connects: the database check too
            problems.append("the database schema is not up to date: run `herald migrate` first")
    except SQLAlchemyError as error:
        problems.append(f"cannot reach the database at {safe_url(settings.database_url)}: {database_problem(error)}")
    try:
        broker_check(settings.amqp_url)()
    except Exception as error:  # pika raises a family of unrelated errors for "cannot connect"
        problems.append(f"cannot reach RabbitMQ at {safe_url(settings.amqp_url)}: {broker_problem(error)}")
    return problems


def database_problem(error: SQLAlchemyError) -> str:
    """Why a connection failed, in words (psycopg and sqlite give only an exception class)."""
    cause = getattr(error, "orig", None) or error
    code = getattr(cause, "sqlstate", None)
    text = str(cause)
    if code == "3D000" or ("database" in text and "does not exist" in text):
        return "no such database"
    if code in ("28P01", "28000") or "password authentication failed" in text or "role" in text:
        return "bad credentials (user or password refused)"
    if "Connection refused" in text:
        return "connection refused (is PostgreSQL running there?)"
    if "failed to resolve host" in text:
        return "unknown host"
    if "unable to open database file" in text:
        return "cannot open the SQLite file (does its directory exist and is it writable?)"
    return f"{type(cause).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def broker_problem(error: Exception) -> str:
    if isinstance(error, pika.exceptions.ProbableAuthenticationError):
        return "bad credentials (user or password refused)"
    if isinstance(error, pika.exceptions.ProbableAccessDeniedError):
        return "no such vhost (or the user may not use it)" if "not found" in str(error) else "access to the vhost refused"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    text = f"{error} {error!r}".lower()  # pika's connection errors say what happened only in repr
    if "refused" in text:
        return "connection refused (is RabbitMQ running there?)"
    if isinstance(error, TimeoutError) or "timed out" in text or "timeout" in text:
        return "timed out"
    return type(error).__name__


def build_platform(
    settings: PlatformSettings, *, runs_workers: bool, schema_is_current: SchemaCheck, clock: Clock | None = None
) -> Platform:
    clock = clock or SystemClock()
    engine = build_engine(settings.database_url)
    check_dependencies(settings, engine, schema_is_current)

    session_factory = build_session_factory(engine)
    ledger = JobLedger(session_factory, clock)
    dead_letters = DeadLetterArchive(session_factory, ledger, clock)
    metrics_registry = CollectorRegistry()
    broker = build_broker(
        settings.amqp_url,
        ledger=ledger if runs_workers else None,
        metrics_registry=metrics_registry if runs_workers else None,
    )
    return Platform(settings, clock, engine, session_factory, ledger, dead_letters, broker, metrics_registry)


def dead_letter_archiver(platform: Platform, name: str, work_queues: list[str]) -> QueueConsumer:
    """A consumer that moves every dead letter of Dramatiq's ``work_queues`` into the archive
    (Dramatiq has declared those queues already)."""
    dead_letter_queues = [dead_letter_queue(queue) for queue in work_queues]

    def already_declared(channel: BlockingChannel) -> None:
        for queue in dead_letter_queues:
            channel.queue_declare(queue, passive=True)

    return _archiver(platform, name, dead_letter_queues, already_declared, carries_dramatiq_messages=True)


def ingress_dead_letter_archiver(platform: Platform, name: str, ingress: Sequence[IngressQueue]) -> QueueConsumer:
    """The same for queues of foreign events, which it declares itself (with their bindings)."""

    def declare(channel: BlockingChannel) -> None:
        for queue in ingress:
            queue.declare(channel)

    dead_letter_queues = [dead_letter_queue(queue.queue_name) for queue in ingress]
    return _archiver(platform, name, dead_letter_queues, declare, carries_dramatiq_messages=False)


def _archiver(
    platform: Platform,
    name: str,
    dead_letter_queues: list[str],
    declare: Callable[[BlockingChannel], None],
    *,
    carries_dramatiq_messages: bool,
) -> QueueConsumer:
    return QueueConsumer(
        name=name,
        amqp_url=platform.settings.amqp_url,
        queues=dead_letter_queues,
        handle=partial(platform.dead_letters.archive_delivery, carries_dramatiq_messages=carries_dramatiq_messages),
        declare=declare,
        requeue_on_error=True,
    )
