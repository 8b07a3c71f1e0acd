"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ATTAIN_TEST_PG_URL (e.g. postgresql://postgres@127.0.0.1/test); each test
gets its own schema there, dropped afterwards. Without the variable the PostgreSQL half is skipped
with a visible reason (CI always sets it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from attain.db import get_engine, make_session_factory, resolve_database_url
from attain.migrate import upgrade

PG_URL_VARIABLE = "ATTAIN_TEST_PG_URL"
FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'attain.db'}"
        upgrade(get_engine(url))
        yield url
        get_engine(url).dispose()
        return
    base = os.environ.get(PG_URL_VARIABLE)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (e.g. postgresql://postgres@127.0.0.1/test)")
    schema = f"attain_test_{uuid.uuid4().hex[:12]}"
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


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    session = make_session_factory(get_engine(database_url))()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data sets not found at {SHARED_DATA} (CI has ../shared beside the project)")
    return SHARED_DATA
