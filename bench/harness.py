"""What every benchmark does alike: say which machine it measured, and run until done or
interrupted (Ctrl-C or ``kill``), cleaning up what it made (schemas, vhosts, processes) either way."""

import contextlib
import os
import platform
import signal
import sys
import time
from collections.abc import Callable

import sqlalchemy

from tests.support.rabbitmq import RabbitAdmin


def machine_context(database_url: str, admin: RabbitAdmin) -> str:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            database = f"PostgreSQL {connection.exec_driver_sql('SHOW server_version').scalar()}"
    finally:
        engine.dispose()
    rabbitmq = admin.http.get("/api/overview").json().get("rabbitmq_version", "?")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
        f"{platform.python_implementation()} {platform.python_version()}, database {database}, "
        f"RabbitMQ {rabbitmq}, load average {load}"
    )


def run_and_clean_up(run: Callable[[contextlib.ExitStack], None], what_is_cleaned: str) -> int:
    """Call ``run`` with an ExitStack for its clean-ups, which run however ``run`` ends; the
    exit status."""
    signal.signal(signal.SIGTERM, _interrupt)  # a `kill` cleans up like Ctrl-C does
    began = time.monotonic()
    with contextlib.ExitStack() as cleanup:
        try:
            run(cleanup)
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
        print(f"\ncleaning up ({what_is_cleaned}) ...", flush=True)
    print(f"run took {time.monotonic() - began:.1f} s")
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt
