"""The ``herald`` command: ``up``, ``run SERVICE``, ``migrate``, ``schedules``.

``herald up`` runs each service as a child process (``herald run SERVICE``) and owns their
lifetimes: SIGINT/SIGTERM is passed on, each child gets up to ``STOP_GRACE_S`` to finish its work
in hand, and whatever is still alive then is killed, so no child outlives ``herald up``.
"""

import argparse
import ctypes
import importlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from shared.db import build_engine
from shared.logging import configure_logging
from shared.metrics import MULTIPROCESS_DIR_ENV
from shared.migrate import pending_migrations, upgrade_to_head
from shared.platform import StartupError, check_dependencies
from shared.runtime import run_until_signalled
from shared.settings import PlatformSettings

SERVICES = {
    "auth-events": "services.auth_events.bootstrap",
    "notifier": "services.notifier.bootstrap",
    "scheduler": "services.scheduler.bootstrap",
}
STOP_GRACE_S = 13.0  # within the 15 s promised for the whole of `herald up`
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

logger = logging.getLogger("herald.cli")


def fail(message: str, code: int = 1) -> int:
    print(f"herald: {message}", file=sys.stderr)
    return code


def settings_problem(error: ValidationError) -> str:
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())


def migrate(_args) -> int:
    settings = PlatformSettings()
    engine = build_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
    except Exception as error:  # any failure here is reported the same way: one line, non-zero
        return fail(f"migration failed: {type(error).__name__}: {error}")
    finally:
        engine.dispose()
    print("herald: database schema is up to date")
    return 0


def schedules(_args) -> int:
    """Print the recurring schedules with their next run times (configuration only: no broker needed)."""
    from datetime import datetime, timezone

    from services.scheduler.recurring import recurring_schedules
    from services.scheduler.settings import SchedulerSettings

    now = datetime.now(timezone.utc)
    rows = [("NAME", "SCHEDULE", "TIMEZONE", "EMITS", "NEXT RUN")]
    for schedule in recurring_schedules(SchedulerSettings()):
        next_run = schedule.next_run_at(now)
        rows.append(
            (schedule.name, schedule.spec, schedule.timezone, schedule.emits, next_run.isoformat() if next_run else "-")
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
    return 0


def run(args) -> int:
    service_module = importlib.import_module(SERVICES[args.service])
    settings = service_module.SETTINGS_CLASS()
    configure_logging(args.service, settings.log_level, settings.log_format)
    run_until_signalled([service_module.bootstrap(settings)])
    return 0


def up(_args) -> int:
    # Every service's settings are checked before any starts, so a bad value is one message.
    processes = {name: importlib.import_module(module).SETTINGS_CLASS().processes for name, module in SERVICES.items()}
    settings = PlatformSettings()
    configure_logging("herald", settings.log_level, settings.log_format)
    engine = build_engine(settings.database_url)
    try:
        if not settings.is_production and _reachable(engine) and pending_migrations(engine):
            logger.info("bringing the database schema up to date (development)")
            upgrade_to_head(engine)
        check_dependencies(settings, engine)
    finally:
        engine.dispose()

    stop_requested = False

    def request_stop(*_):
        nonlocal stop_requested
        stop_requested = True

    # Before the children exist, so a signal arriving while they start still stops them in order.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    # A service in several processes sums its metrics over them from files (shared.metrics).
    metrics_dirs = {
        name: tempfile.mkdtemp(prefix=f"herald-{name}-metrics-") for name, count in processes.items() if count > 1
    }
    try:
        children = {
            _child_name(name, number, count): subprocess.Popen(
                [sys.executable, "-m", "services.cli", "run", name],
                preexec_fn=_stop_with_parent,
                env={**os.environ, MULTIPROCESS_DIR_ENV: metrics_dirs[name]} if name in metrics_dirs else None,
            )
            for name, count in processes.items()
            for number in range(1, count + 1)
        }

        failed = None
        while not stop_requested and failed is None:
            failed = next((name for name, child in children.items() if child.poll() is not None), None)
            time.sleep(0.2)
        if failed:
            logger.error("a service exited; stopping the others", extra={"service_name": failed})
        return _stop_children(children) or (1 if failed else 0)
    finally:
        for directory in metrics_dirs.values():
            shutil.rmtree(directory, ignore_errors=True)


def _child_name(service: str, number: int, count: int) -> str:
    return service if count == 1 else f"{service}#{number}"


def _stop_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when ``herald up`` dies, even by SIGKILL,
    so that no service outlives it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _reachable(engine) -> bool:
    try:
        with engine.connect():
            return True
    except SQLAlchemyError:  # check_dependencies then says what is wrong, in one line
        return False


def _stop_children(children: dict[str, subprocess.Popen]) -> int:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    worst = 0
    for name, child in children.items():
        try:
            code = child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.error("service did not stop in time; killing it", extra={"service_name": name})
            child.kill()
            code = child.wait()
        worst = worst or (code if code not in (0, -signal.SIGTERM) else 0)
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="herald", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run every service in the foreground").set_defaults(func=up)
    run_parser = commands.add_parser("run", help="run one service")
    run_parser.add_argument("service", choices=sorted(SERVICES))
    run_parser.set_defaults(func=run)
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=migrate)
    commands.add_parser("schedules", help="list the recurring schedules and their next runs").set_defaults(
        func=schedules
    )
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except StartupError as error:
        return fail(str(error))
    except ValidationError as error:
        return fail(f"invalid settings: {settings_problem(error)}", code=2)


if __name__ == "__main__":
    sys.exit(main())
