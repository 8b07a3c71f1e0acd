"""One way to get a freshly migrated database for tests: a SQLite file, or a PostgreSQL schema.

PostgreSQL comes from ATTAIN_TEST_PG_URL; each database is its own schema, dropped afterwards.
Without the variable the PostgreSQL case is skipped with a visible reason (CI always sets it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from attain.db import get_engine, resolve_database_url
from attain.migrate import upgrade

PG_URL_VARIABLE = "ATTAIN_TEST_PG_URL"


@contextmanager
def fresh_database(kind: str, folder: Path, prefix: str = "attain_test") -> Iterator[str]:
    """Yield the URL of an empty, migrated database of `kind` ('sqlite' or 'postgresql')."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'attain.db'}"
        upgrade(get_engine(url))
        try:
            yield url
        finally:
            get_engine(url).dispose()
        return
    base = os.environ.get(PG_URL_VARIABLE)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (e.g. postgresql://postgres@127.0.0.1/test)")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(resolve_database_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = resolve_database_url(f"{base}{separator}options=-csearch_path%3D{schema}")
    try:
        upgrade(get_engine(url))
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
