"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ATTAIN_TEST_PG_URL (e.g. postgresql://postgres@127.0.0.1/test); each test
gets its own database there, a copy of one migrated once per process (tests/databases.py), dropped
afterwards. Without the variable the PostgreSQL half is skipped
with a visible reason (CI always sets it).

Hypothesis runs under one profile for the whole suite: no deadline and no "too slow" health check,
because a correctness test must not fail on a loaded machine. With CI set (``.ci/run`` sets it) the
examples are derandomised, so a CI run draws the same examples every time; HYPOTHESIS_PROFILE
overrides the choice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from attain.db import get_engine, make_session_factory
from tests.databases import drop_templates, fresh_database

PG_URL_VARIABLE = "ATTAIN_TEST_PG_URL"
FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# Wall-clock checks off: a deadline or the too_slow health check fails correct code on a busy machine.
settings.register_profile("attain", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# CI: the same examples on every run (derandomize fixes the seed) and no example database carried over.
settings.register_profile("attain-ci", parent=settings.get_profile("attain"), derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("attain-ci" if os.environ.get("CI") else "attain"))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop this process's copies and templates (tests/databases.py) once every fixture is done: after
    the session fixtures' teardown, and before a pytest-xdist worker reports that it has finished (the
    controller may end it then, before pytest_unconfigure)."""
    drop_templates()


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
