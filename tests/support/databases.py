"""Databases for tests: a fresh SQLite file or in-memory database, or a schema of its own in
PostgreSQL."""

import functools
import os
import uuid

import sqlalchemy
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from services.migrations.metadata import metadata
from shared.db import build_engine, build_session_factory

POSTGRES_URL = os.environ.get("HERALD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_problem() -> str | None:
    """Why the tests cannot use ``POSTGRES_URL`` (the driver's own words), or None when they can.

    The error is kept, not swallowed: a wrong password or a missing database is not "unreachable".
    """
    shown = sqlalchemy.make_url(POSTGRES_URL).render_as_string(hide_password=True)
    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL)
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
    except Exception as error:  # any failure to connect is a reason to skip (or fail under CI)
        cause = getattr(error, "orig", None) or error
        detail = " ".join(str(cause).split()) or "(no message)"
        return f"PostgreSQL at {shown} (HERALD_TEST_POSTGRES_URL) cannot be used: {type(cause).__name__}: {detail}"
    return None


def postgres_reachable() -> bool:
    return postgres_problem() is None


class PostgresSchema:
    """A schema per test, selected through the connection's search_path."""

    def __init__(self) -> None:
        self.name = f"herald_test_{uuid.uuid4().hex[:12]}"
        self._admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{self.name}"')

    @property
    def url(self) -> str:
        return f"{POSTGRES_URL}?options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        self._admin.dispose()


def in_memory_session_factory() -> sessionmaker[Session]:
    """A fresh in-memory SQLite database with the whole schema, for unit tests. StaticPool keeps
    one connection, so every session sees the same database."""
    engine = build_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(engine)
    return build_session_factory(engine)
