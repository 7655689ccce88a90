"""Migration 0003 on SQLite and PostgreSQL: the archive's rows survive, keep their keys, and
the key stays unique; the downgrade gives the old schema back."""

from datetime import datetime

import pytest
import sqlalchemy
from alembic import command
from sqlalchemy.exc import IntegrityError

from services.migrations.migrate import alembic_config
from shared.db import build_engine

DEAD_AT = datetime(2026, 11, 23, 8, 15)


@pytest.fixture
def engine_at_0002(database_url):
    engine = build_engine(database_url)
    command.upgrade(alembic_config(engine), "0002")
    yield engine
    engine.dispose()


def insert_old_row(connection, fingerprint: str) -> None:
    connection.execute(
        sqlalchemy.text(
            "INSERT INTO dead_letters (fingerprint, queue_name, reason, attempts, body, headers, dead_at)"
            " VALUES (:fingerprint, 'notifier.critical', 'rejected', 0, :body, '{}', :dead_at)"
        ),
        {"fingerprint": fingerprint, "body": b"{}", "dead_at": DEAD_AT},
    )


def test_the_archive_keeps_its_rows_through_the_upgrade_and_back(engine_at_0002):
    with engine_at_0002.begin() as connection:
        insert_old_row(connection, "hash-1")
        insert_old_row(connection, "hash-2")

    command.upgrade(alembic_config(engine_at_0002), "0003")
    with engine_at_0002.begin() as connection:
        rows = connection.execute(sqlalchemy.text("SELECT delivery_key, message_id FROM dead_letters ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [("hash-1", None), ("hash-2", None)]
    with pytest.raises(IntegrityError), engine_at_0002.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "INSERT INTO dead_letters (delivery_key, queue_name, reason, attempts, body, headers, dead_at)"
                " VALUES ('hash-1', 'q', 'rejected', 0, :body, '{}', :dead_at)"
            ),
            {"body": b"{}", "dead_at": DEAD_AT},
        )

    command.downgrade(alembic_config(engine_at_0002), "0002")
    with engine_at_0002.begin() as connection:
        fingerprints = connection.execute(sqlalchemy.text("SELECT fingerprint FROM dead_letters ORDER BY id")).scalars()
        assert list(fingerprints) == ["hash-1", "hash-2"]
        with pytest.raises(IntegrityError):
            insert_old_row(connection, "hash-1")
