"""The ``herald`` command line (typer, with rich help and errors)."""

import functools
import importlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from contextvars import ContextVar
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from services.cli.banner import announce_when_ready
from services.cli.catalogue import CATALOGUE, SERVICES
from services.cli.preflight import check_settings_and_ports
from services.cli.supervisor import ChildSpec, Supervisor
from services.migrations.migrate import schema_is_current, upgrade_to_head
from shared.db import build_engine
from shared.runtime.logging import configure_logging
from shared.runtime.platform import StartupError, dependency_problems
from shared.settings import InvalidSettings, PlatformSettings, load_settings
from shared.web.metrics import MULTIPROCESS_DIR_ENV

#: Within the 15 s promised for the whole of ``herald up``.
STOP_GRACE_S = 13.0

logger = logging.getLogger("herald.cli")

#: Where a command run by ``main`` leaves its exit code (typer itself only ever exits).
_OUTCOME: ContextVar[dict[str, int]] = ContextVar("herald_cli_outcome")

ServiceName = StrEnum("ServiceName", {name: name for name in SERVICES})
Locale = StrEnum("Locale", {"en": "en", "mn": "mn"})

app = typer.Typer(
    name="herald",
    help="Herald: background jobs and notifications on RabbitMQ and Dramatiq.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    # Settings hold passwords and keys: a traceback must never print local variables.
    pretty_exceptions_show_locals=False,
)


def fail(message: str, code: int = 1) -> int:
    """Print each line of ``message`` as ``herald: ...`` on stderr; return ``code``."""
    for line in message.splitlines():
        print(f"herald: {line}", file=sys.stderr)
    return code


def _exit_code(command):
    """Run a command that returns an exit code; bad settings and start-up problems become lines
    on stderr. The code is kept for ``main`` and also ends the process when typer runs alone."""

    @functools.wraps(command)
    def run(*args, **kwargs) -> None:
        try:
            code = command(*args, **kwargs)
        except InvalidSettings as error:
            code = fail(str(error), code=2)
        except StartupError as error:
            code = fail(str(error))
        _OUTCOME.get({})["exit_code"] = code
        raise typer.Exit(code)

    return run


def _show_version(value: bool) -> None:
    if value:
        try:
            print(f"herald {version('herald')}")
        except PackageNotFoundError:  # running from a checkout that was never installed
            print("herald (not installed)")
        raise typer.Exit()


@app.callback()
def _herald(
    _version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Herald: background jobs and notifications on RabbitMQ and Dramatiq.

    Settings come from the environment and .env; see the README for each one.
    """


@app.command()
@_exit_code
def up() -> int:
    """Run every service in the foreground, restarting any that crashes; Ctrl-C stops them all.

    Every service's settings, the email transport, the ports, the database and RabbitMQ are
    checked first: a problem is one line each, and nothing starts.
    """
    preflight = check_settings_and_ports()
    platform = next(iter(preflight.settings.values()), None)  # every service shares these fields
    if platform is not None:
        configure_logging("herald", platform.log_level, platform.log_format)
        migrate_first = not preflight.problems and not platform.is_production
        preflight.other_problems += _check_database_and_broker(platform, migrate_first)
    if preflight.problems:
        return fail("\n".join(preflight.problems), preflight.exit_code)
    return _supervise(preflight.settings)


def _check_database_and_broker(settings: PlatformSettings, migrate_first: bool) -> list[str]:
    """What is wrong with the database or RabbitMQ. In development, when nothing is, the schema is
    brought up to date, so a fresh checkout just runs."""
    engine = build_engine(settings.database_url)
    try:
        problems = dependency_problems(
            settings, engine, schema_is_current, schema_must_be_current=settings.is_production
        )
        if not problems and migrate_first and _schema_behind(engine):
            logger.info("bringing the database schema up to date (development)")
            upgrade_to_head(engine)
        return problems
    finally:
        engine.dispose()


def _schema_behind(engine) -> bool:
    try:
        return not schema_is_current(engine)
    except SQLAlchemyError:  # unreachable: dependency_problems then says what is wrong, in words
        return False


def _supervise(settings: dict[str, PlatformSettings]) -> int:
    # A service in several processes sums its metrics over them from files (shared.web.metrics).
    metrics_dirs = {
        name: tempfile.mkdtemp(prefix=f"herald-{name}-metrics-")
        for name, service_settings in settings.items()
        if service_settings.processes > 1
    }
    specs = [
        ChildSpec(
            name if count == 1 else f"{name}#{number}",
            [sys.executable, "-m", "services.cli", "run", name],
            env={**os.environ, MULTIPROCESS_DIR_ENV: metrics_dirs[name]} if name in metrics_dirs else None,
        )
        for name, count in ((name, service_settings.processes) for name, service_settings in settings.items())
        for number in range(1, count + 1)
    ]
    supervisor = Supervisor(specs, stop_grace_s=STOP_GRACE_S, on_exit=_forget_metrics_of_dead_process)
    # Before the children exist, so a signal arriving while they start still stops them in order.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, supervisor.request_stop)
    announcer = threading.Thread(
        target=announce_when_ready,
        args=(settings, lambda: not supervisor.stopping),
        name="herald-banner",
        daemon=True,
    )
    announcer.start()
    try:
        return supervisor.run()
    finally:
        for directory in metrics_dirs.values():
            shutil.rmtree(directory, ignore_errors=True)


def _forget_metrics_of_dead_process(spec: ChildSpec, pid: int) -> None:
    """A restarted process's gauges must not be summed with the dead one's (prometheus_client)."""
    directory = (spec.env or {}).get(MULTIPROCESS_DIR_ENV)
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, directory)


def _known_service(value: object) -> object:
    """Checked while the arguments are read, before --help (below) prints and exits."""
    if value is not None and str(getattr(value, "value", value)) not in SERVICES:
        raise typer.BadParameter(f"{str(value)!r} is not one of {', '.join(SERVICES)}")
    return value


def _help_after_the_arguments(context: typer.Context, wanted: bool) -> None:
    if wanted and not context.resilient_parsing:
        print(context.get_help())
        raise typer.Exit()


# Its own --help, not eager: so `herald run no-such-service --help` is refused as any other
# invalid command line is, instead of printing help as if it were valid.
@app.command(context_settings={"help_option_names": []})
@_exit_code
def run(
    # Optional only to the parser, so that `herald run --help` shows help; required below.
    service: Annotated[
        ServiceName | None,
        typer.Argument(
            help=f"The service to run: {', '.join(SERVICES)}.",
            metavar="SERVICE",
            is_eager=True,
            callback=_known_service,
            show_default=False,
        ),
    ] = None,
    _help: Annotated[
        bool,
        typer.Option("--help", "-h", callback=_help_after_the_arguments, help="Show this message and exit."),
    ] = False,
) -> int:
    """Run one service in the foreground (what `herald up` starts for each, and one container runs)."""
    if service is None:
        raise typer.BadParameter(f"name one of {', '.join(SERVICES)}", param_hint="SERVICE")
    entry = CATALOGUE[service.value]
    settings = load_settings(entry.settings_class())
    configure_logging(entry.name, settings.log_level, settings.log_format)
    from shared.runtime.service import run_until_signalled

    run_until_signalled([importlib.import_module(entry.module).bootstrap(settings)])
    return 0


@app.command()
@_exit_code
def migrate() -> int:
    """Bring the database schema up to date (production runs this before `up`)."""
    settings = load_settings(PlatformSettings)
    engine = build_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
    except SQLAlchemyError as error:
        problems = dependency_problems(settings, engine, schema_is_current)
        return fail("\n".join(problems) if problems else f"migration failed: {type(error).__name__}: {error}")
    except Exception as error:  # any failure here is reported the same way: one line, non-zero
        return fail(f"migration failed: {type(error).__name__}: {error}")
    finally:
        engine.dispose()
    print("herald: database schema is up to date")
    return 0


@app.command()
@_exit_code
def schedules() -> int:
    """List the recurring schedules and their next runs (reads the settings only: no broker needed)."""
    from datetime import datetime, timezone

    from services.scheduler.recurring.schedules import recurring_schedules
    from services.scheduler.settings import SchedulerSettings

    now = datetime.now(timezone.utc)
    rows = [("NAME", "SCHEDULE", "TIMEZONE", "EMITS", "NEXT RUN")]
    for schedule in recurring_schedules(load_settings(SchedulerSettings)):
        next_run = schedule.next_run_at(now)
        rows.append(
            (schedule.name, schedule.spec, schedule.timezone, schedule.emits, next_run.isoformat() if next_run else "-")
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
    return 0


@app.command("send-test-email")
@_exit_code
def send_test_email(
    to: Annotated[str, typer.Option("--to", help="Where to send it.", show_default=False)],
    locale: Annotated[
        Locale | None, typer.Option("--locale", help="Its language (default: DEFAULT_LOCALE).", show_default=False)
    ] = None,
) -> int:
    """Send a sample sign-in alert through the configured EMAIL_TRANSPORT and say what happened."""
    from services.cli.sample_email import CannotSend
    from services.cli.sample_email import send_test_email as send
    from services.notifier.settings import NotifierSettings

    settings = load_settings(NotifierSettings)
    configure_logging("herald", settings.log_level, settings.log_format)  # the log transport "sends" to the log
    try:
        sent = send(settings, to, locale.value if locale else None)
    except CannotSend as error:
        return fail(str(error))
    print(f"herald: {sent.describe(settings)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``herald`` with ``argv`` (default: the command line); return the command's exit code.

    ``--help``, ``--version`` and usage errors end the process at once (SystemExit), as in any
    command-line tool; a command's own outcome is returned, so tests can call ``main``.
    """
    outcome: dict[str, int] = {}
    token = _OUTCOME.set(outcome)
    try:
        app(args=argv, prog_name="herald")
    except SystemExit:
        if "exit_code" not in outcome:
            raise
    finally:
        _OUTCOME.reset(token)
    return outcome["exit_code"]
