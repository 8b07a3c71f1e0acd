"""Create or upgrade the schema with the Alembic migrations shipped in `attain/migrations`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Upgrade the database to the newest revision; return (revision before, revision after)."""
    config = alembic_config()
    with engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        _refresh_derived(connection)
    head = ScriptDirectory.from_config(config).get_current_head()
    return before, head or ""


def _refresh_derived(connection: Connection) -> None:
    """Build the rollups when they do not cover the order lines (a database from before 0009, or
    lines added outside the imports): once, here, rather than reports reading the lines for ever."""
    from attain.facts import rollups

    if not rollups.current(connection):
        rollups.rebuild(connection)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
