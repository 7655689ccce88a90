"""A scheduler's due scan in a process of its own, for tests that run several at once.

Started with ``multiprocessing.get_context("spawn")``: a fresh interpreter with its own engine,
database connections and broker connection, as a second scheduler replica would have.
"""

from datetime import datetime


class _MeetingPublisher:
    """Publishes through ``publisher``, but holds its first batch until every scanner holds one:
    then the scans certainly overlap, each with claimed (locked) rows in hand at the same time."""

    def __init__(self, publisher, all_holding_a_batch) -> None:
        self._publisher = publisher
        self._all_holding_a_batch = all_holding_a_batch

    def publish(self, *args, **kwargs) -> None:
        if self._all_holding_a_batch is not None:
            self._all_holding_a_batch.wait(timeout=60)
            self._all_holding_a_batch = None
        self._publisher.publish(*args, **kwargs)


def scan_in_own_process(
    database_url: str,
    amqp_url: str,
    now: datetime,
    batch_size: int,
    start_together,
    results,
    all_holding_a_batch=None,
) -> None:
    """Connect first, wait at ``start_together`` (a Barrier), run one scan at ``now``, and put
    ``("emitted", n)`` or ``("failed", description)`` on ``results`` (a Queue).

    ``all_holding_a_batch`` (a Barrier, optional): meet there with the first batch claimed and
    not yet published. Only where scans can hold batches at once (PostgreSQL's row locks);
    on SQLite the second scan waits for the first one's transaction, so they would never meet.
    """
    # Imported here: the parent only needs this module to name the function.
    from services.scheduler.digest_schedules.scan import DigestScan
    from shared.amqp.event_publisher import EventPublisher
    from shared.db import build_engine, build_session_factory, ping
    from tests.fakes.clock import FakeClock

    engine = build_engine(database_url)
    publisher = EventPublisher(amqp_url)
    try:
        ping(engine)  # connected before the start, so both scans begin their work together
        scan = DigestScan(
            build_session_factory(engine),
            _MeetingPublisher(publisher, all_holding_a_batch),
            FakeClock(now),
            batch_size=batch_size,
        )
        start_together.wait(timeout=60)
        results.put(("emitted", scan.run_once()))
    except Exception as error:  # reported to the test, which fails on it
        results.put(("failed", f"{type(error).__name__}: {error}"))
    finally:
        publisher.close()
        engine.dispose()
