"""Fixtures shared by every scope.

Policy (DESIGN §5.8): unit tests use fakes and need nothing running. Tests that need RabbitMQ
or PostgreSQL skip on a laptop without them, and fail under CI (``CI=true``), where they must
run. Each test that touches RabbitMQ gets a vhost of its own, so runs never see each other.
"""

import os

import pytest

from tests.support.databases import PostgresSchema, postgres_problem
from tests.support.rabbitmq import RabbitAdmin

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(what: str, problem: str | None = None):
    """Skip (fail under CI), saying why: ``problem`` is the real error when it is known."""
    reason = problem or f"{what} is not reachable"
    if IN_CI:
        pytest.fail(f"{what} is required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def rabbit_admin():
    admin = RabbitAdmin()
    problem = admin.problem()
    if problem:
        _unavailable("the RabbitMQ management API", problem)
    return admin


@pytest.fixture
def vhost(rabbit_admin):
    name = rabbit_admin.create_vhost()
    yield name
    rabbit_admin.delete_vhost(name)


@pytest.fixture
def amqp_url(rabbit_admin, vhost):
    return rabbit_admin.amqp_url(vhost)


@pytest.fixture(scope="session")
def postgres_available():
    return postgres_problem() is None


@pytest.fixture(scope="session")
def postgres_required(postgres_available):
    """For a test about PostgreSQL itself: skipped without it, failed under CI."""
    if not postgres_available:
        _unavailable("PostgreSQL", postgres_problem())


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, postgres_available):
    """An empty database of each kind Herald supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'herald.db'}"
        return
    if not postgres_available:
        _unavailable("PostgreSQL", postgres_problem())
    schema = PostgresSchema()
    yield schema.url
    schema.drop()


@pytest.fixture
def migrated_engine(database_url):
    from services.migrations.migrate import upgrade_to_head
    from shared.db import build_engine

    engine = build_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(migrated_engine):
    from shared.db import build_session_factory

    return build_session_factory(migrated_engine)
