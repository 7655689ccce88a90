"""The engine and session factory every service uses, and one unit of work per message.

SQLite is the embedded default: several Herald processes share one file, so it runs in WAL mode
with a busy timeout, and every transaction starts with ``BEGIN IMMEDIATE`` so that
read-check-write sequences (idempotency, rate limits) cannot interleave between processes.
PostgreSQL gets row locks from the code that needs them.
"""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    MetaData,
    Table,
    create_engine,
    delete,
    event,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


#: Connections a PostgreSQL engine keeps open, and how many more it may open for a burst.
POOL_SIZE = 16
POOL_OVERFLOW = 16


def build_engine(database_url: str, **engine_options) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        # No pool_pre_ping: it costs a round trip on every transaction, the hot paths run several
        # per event, and a connection the server dropped is already handled: SQLAlchemy discards
        # the pool on the disconnect error, which Herald treats as transient (a 503, a retry).
        # The pool keeps as many connections as a service uses at once (its worker threads, its
        # consumers, its HTTP requests in flight). With SQLAlchemy's default of 5, the
        # rest are overflow connections, closed when returned and opened again for the next
        # transaction: a PostgreSQL backend started and stopped per event under load.
        engine_options = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **engine_options}
        return create_engine(url, pool_recycle=1800, **engine_options)

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **engine_options)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (see do_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction commits when the block ends normally and rolls back otherwise."""
    with session_factory() as session, session.begin():
        yield session


def dialect_insert(dialect: str):
    """The INSERT construct with ON CONFLICT for ``dialect`` (``postgresql`` or ``sqlite``)."""
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]


def insert_ignoring_conflicts(session: Session, table, values: dict) -> bool:
    """INSERT that does nothing when a unique key already holds the row; True when it inserted."""
    return bool(insert_many_ignoring_conflicts(session, table, [values]))


def insert_many_ignoring_conflicts(session: Session, table, rows: list[dict]) -> set:
    """The same for many rows in one statement; the primary keys of the rows it inserted."""
    if not rows:
        return set()
    statement = _ignoring_insert(session.get_bind().dialect.name, table)
    return set(session.execute(statement, rows).scalars())


@functools.cache
def _ignoring_insert(dialect: str, table):
    # Built once per table: constructing a statement costs more CPU than running it (measured
    # ~0.5 ms per call), and these run on every event and every job.
    # RETURNING, not rowcount: drivers disagree on rowcount for a skipped conflict.
    first_key_column = next(iter(table.primary_key.columns))
    return dialect_insert(dialect)(table).on_conflict_do_nothing().returning(first_key_column)


def delete_in_batches(
    session_factory: sessionmaker[Session], table: Table, condition: ColumnElement[bool], batch_size: int
) -> int:
    """Delete the rows matching ``condition``, ``batch_size`` per transaction, so no transaction
    holds locks for long; the number deleted."""
    key_columns = list(table.primary_key.columns)
    key = key_columns[0] if len(key_columns) == 1 else tuple_(*key_columns)
    statement = delete(table).where(key.in_(select(*key_columns).where(condition).limit(batch_size)))
    total = 0
    while True:
        with unit_of_work(session_factory) as session:
            deleted = session.execute(statement).rowcount
        total += deleted
        if deleted < batch_size:
            return total


def ping(engine: Engine) -> None:
    """Raise unless the database answers."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
