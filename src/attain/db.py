"""Database engine, declarative base and session factory.

One URL selects the database: the `--db` option, else `ATTAIN_DATABASE_URL`, else an SQLite file
`attain.db` in the current directory. PostgreSQL URLs may be written `postgresql://`; they are run
through psycopg 3.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///attain.db"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def resolve_database_url(url: str | None = None) -> str:
    """The database URL to use: the given one, else ATTAIN_DATABASE_URL, else ./attain.db."""
    chosen = url or os.environ.get("ATTAIN_DATABASE_URL") or DEFAULT_DATABASE_URL
    if chosen.startswith("postgres://"):
        chosen = "postgresql://" + chosen[len("postgres://") :]
    if chosen.startswith("postgresql://"):
        chosen = "postgresql+psycopg://" + chosen[len("postgresql://") :]
    return chosen


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Bulk imports stage rows in temporary tables: keep those in memory, and give the page cache room.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-262144")
    cursor.close()


@lru_cache(maxsize=16)
def get_engine(url: str | None = None) -> Engine:
    """Engine for the URL (cached per URL so the CLI and web app share one pool)."""
    resolved = resolve_database_url(url)
    if resolved.startswith("sqlite"):
        engine = create_engine(resolved, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(resolved, pool_pre_ping=True)
    return engine


def is_postgresql(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session for one CLI command; services commit, this only closes (and rolls back on error)."""
    session = make_session_factory(get_engine(url))()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
