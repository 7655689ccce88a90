"""How fast the digest due scan emits, and whether its cost follows the due schedules or all of them.

Run from the repository root (RabbitMQ with its management API, and PostgreSQL, must be up):

    .venv/bin/python -m bench.digest_scan [--total 1000000] [--small-total 100000] [--due 1000,10000,100000]

Each run uses resources of its own, all removed at the end (Ctrl-C included): a PostgreSQL
schema (migrated to head, so the table and its indexes are the real ones) and a RabbitMQ vhost
with one queue bound to ``scheduler.events`` / ``digest.due`` (mandatory publishing needs a
queue to route to); the queue is purged after each measurement.

What is measured, and how
-------------------------
Schedules are loaded with COPY, first ``--small-total`` of them, then up to ``--total``. Their
shapes vary as real ones do: 96 delivery times (every 15 minutes), 24 time zones, daily (60%),
weekly (30%, every weekday) and monthly (10%, days 1-31), two locales and two category lists.
The ones not due have a next run spread over the coming 30 days.

For each total and each D in ``--due`` (and D = 0), D schedules are made due (their next run
put a minute in the past), the table is vacuumed and analysed, and then one
``DigestScan.run_once()`` is timed end to end, with the system clock: select with FOR UPDATE
SKIP LOCKED, the batch JSON, a confirmed publish per batch, the bulk UPDATE, the commit. The
figure is due events emitted per second. The same D over two totals shows whether the cost
follows the due schedules (it should) or the table's size.

This is a measurement, not a test: the exit status is 0 whatever the figures.
"""

import argparse
import contextlib
import cProfile
import io
import pstats
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy

from bench.harness import machine_context, run_and_clean_up
from services.migrations.migrate import upgrade_to_head
from services.scheduler.digest_schedules.scan import DigestScan
from shared.amqp.event_publisher import EventPublisher
from shared.clock import SystemClock
from shared.db import build_engine, build_session_factory
from tests.support.databases import POSTGRES_URL, PostgresSchema
from tests.support.digests_due import DigestQueue
from tests.support.rabbitmq import RabbitAdmin

GOAL_EVENTS_PER_S = 20_000
ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Moscow", "Africa/Lagos", "Asia/Dubai",
    "Asia/Kolkata", "Asia/Ulaanbaatar", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney",
    "Pacific/Auckland", "Pacific/Kiritimati", "Pacific/Honolulu", "America/Anchorage",
    "America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York",
    "America/Sao_Paulo", "America/Santiago", "Atlantic/Azores", "Asia/Kathmandu", "Australia/Adelaide",
)  # fmt: skip
TIMES = tuple(f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(0, 24 * 60, 15))
COLUMNS = (
    "id", "user_id", "email", "name", "locale", "frequency", "delivery_time", "delivery_day", "timezone",
    "max_items", "categories", "active", "next_run_at", "last_sent_at", "last_period_key", "created_at", "updated_at",
)  # fmt: skip


def schedule_id(index: int) -> str:
    """Ids that sort like their index, so "the first D schedules" is a primary-key range."""
    return str(uuid.UUID(int=index))


def schedule_row(index: int, now: datetime) -> tuple:
    kind = index % 10
    frequency, day = ("daily", None)
    if 6 <= kind <= 8:
        frequency, day = "weekly", 1 + (index // 10) % 7
    elif kind == 9:
        frequency, day = "monthly", 1 + (index // 10) % 31
    next_run = now + timedelta(days=1, seconds=(index * 7919) % (30 * 86400))
    return (
        schedule_id(index),
        f"user-{index}",
        f"user{index}@example.mn",
        f"User {index}",
        ("en", "mn", None)[index % 3],
        frequency,
        TIMES[(index // 3) % len(TIMES)],
        day,
        ZONES[(index // 11) % len(ZONES)],
        20,
        '["comments","billing.invoices"]' if index % 2 else "[]",
        True,
        next_run,
        None,
        None,
        now,
        now,
    )


def load_schedules(engine: sqlalchemy.Engine, start: int, stop: int) -> float:
    """COPY schedules [start, stop) in; the seconds it took."""
    began = time.perf_counter()
    now = datetime.now(timezone.utc)
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY digest_schedules ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for index in range(start, stop):
                    copy.write_row(schedule_row(index, now))
        raw.commit()
    finally:
        raw.close()
    vacuum(engine)
    return time.perf_counter() - began


def make_due(engine: sqlalchemy.Engine, due: int) -> None:
    """The first ``due`` schedules come due a minute ago, as never sent; then a clean table."""
    with engine.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "UPDATE digest_schedules SET next_run_at = :past, last_period_key = NULL, last_sent_at = NULL "
                "WHERE id < :bound"
            ),
            {"past": datetime.now(timezone.utc) - timedelta(minutes=1), "bound": schedule_id(due)},
        )
    vacuum(engine)


def vacuum(engine: sqlalchemy.Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE digest_schedules")


def count_due(engine: sqlalchemy.Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            sqlalchemy.text("SELECT count(*) FROM digest_schedules WHERE next_run_at <= now()")
        )


def measure(scan: DigestScan, profile: bool) -> tuple[int, float, str]:
    profiler = cProfile.Profile() if profile else None
    began = time.perf_counter()
    if profiler:
        profiler.enable()
    emitted = scan.run_once()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - began
    report = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
        report = out.getvalue()
    return emitted, seconds, report


def run(args: argparse.Namespace, admin: RabbitAdmin, cleanup: contextlib.ExitStack) -> None:
    schema = PostgresSchema()
    cleanup.callback(schema.drop)
    vhost = admin.create_vhost()
    cleanup.callback(admin.delete_vhost, vhost)
    amqp_url = admin.amqp_url(vhost)
    engine = build_engine(schema.url)
    cleanup.callback(engine.dispose)
    upgrade_to_head(engine)
    queue = DigestQueue(amqp_url)
    publisher = EventPublisher(amqp_url)
    cleanup.callback(publisher.close)
    scan = DigestScan(build_session_factory(engine), publisher, SystemClock(), batch_size=args.batch_size)

    print("Herald digest due-scan benchmark")
    print(machine_context(schema.url, admin))
    print(f"batch size {args.batch_size}; database {POSTGRES_URL} (schema {schema.name}); vhost {vhost}\n")

    totals = sorted({min(args.small_total, args.total), args.total})
    results = []
    loaded = 0
    for total in totals:
        seconds = load_schedules(engine, loaded, total)
        print(f"loaded {total - loaded:,} schedules in {seconds:.1f} s ({(total - loaded) / seconds:,.0f}/s); "
              f"table now {total:,}", flush=True)
        loaded = total
        for due in [0, *args.due]:
            if due > total:
                continue
            make_due(engine, due)
            emitted, seconds, report = measure(scan, args.profile and due == max(args.due))
            batches = queue.batches()  # read off the queue, each checked against the schema
            messages, received = len(batches), sum(len(batch.digests) for batch in batches)
            left = count_due(engine)
            results.append((total, due, emitted, seconds, messages, received, left))
            rate = emitted / seconds if emitted else 0.0
            print(f"  total {total:>9,}  due {due:>7,}: emitted {emitted:>7,} in {seconds:7.3f} s "
                  f"= {rate:>9,.0f} events/s  ({messages} messages, {received:,} digests received, "
                  f"{left} still due)", flush=True)
            if report:
                print(report)

    print("\n| total schedules | due | emitted | seconds | events/s | µs per due event |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for total, due, emitted, seconds, *_ in results:
        per_event = f"{seconds / emitted * 1e6:.1f}" if emitted else "-"
        rate = f"{emitted / seconds:,.0f}" if emitted else "-"
        print(f"| {total:,} | {due:,} | {emitted:,} | {seconds:.3f} | {rate} | {per_event} |")

    measured = [(emitted / seconds) for total, due, emitted, seconds, *_ in results if due >= 10_000]
    if measured:
        worst = min(measured)
        verdict = "PASS" if worst >= GOAL_EVENTS_PER_S else "MISS"
        print(f"\ngoal: ≥ {GOAL_EVENTS_PER_S:,} due events/s (runs with ≥ 10,000 due)  {verdict} "
              f"(slowest {worst:,.0f}/s)")
    broken = [r for r in results if r[2] != r[1] or r[5] != r[1] or r[6] != 0]
    if broken:
        print(f"WARNING: {len(broken)} runs did not emit exactly the due schedules: {broken}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.digest_scan", description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=1_000_000, help="schedules in the table (largest run)")
    parser.add_argument("--small-total", type=int, default=100_000, help="schedules in the table (first runs)")
    parser.add_argument(
        "--due", type=lambda text: [int(part) for part in text.split(",")], default=[1_000, 10_000, 100_000],
        help="comma-separated numbers of due schedules to measure",
    )
    parser.add_argument("--batch-size", type=int, default=1000, help="DigestScan batch size")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest run and print the top")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_and_clean_up(lambda cleanup: run(args, RabbitAdmin(), cleanup), "schema, vhost")


if __name__ == "__main__":
    sys.exit(main())
