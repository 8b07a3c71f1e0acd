"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ATTAIN_TEST_PG_URL (e.g. postgresql://postgres@127.0.0.1/test); each test
gets its own schema there, dropped afterwards. Without the variable the PostgreSQL half is skipped
with a visible reason (CI always sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from attain.db import get_engine, make_session_factory
from tests.databases import fresh_database

PG_URL_VARIABLE = "ATTAIN_TEST_PG_URL"
FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database URL."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


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
