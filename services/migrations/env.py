"""Alembic environment: the URL comes from the caller (``herald migrate``), never from a file."""

from alembic import context

from services.migrations.metadata import metadata

config = context.config


def run_migrations_online() -> None:
    connectable = config.attributes["engine"]
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
