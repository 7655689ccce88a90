"""Databases for tests: a fresh SQLite file or in-memory database, or a schema of its own in
PostgreSQL."""

import os
import uuid

import sqlalchemy
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from shared.db import build_engine, build_session_factory
from shared.schema import metadata

POSTGRES_URL = os.environ.get("HERALD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_reachable() -> bool:
    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


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
