"""Alembic environment: runs against the connection handed over by `attain.migrate`, or the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import attain.models  # noqa: F401  (registers every table on Base.metadata)
from attain.db import Base, resolve_database_url

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = create_engine(resolve_database_url(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as conn:
        _configure(conn)


def run_migrations_offline() -> None:
    context.configure(
        url=resolve_database_url(config.get_main_option("sqlalchemy.url")),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
