"""Real public data sets from ../shared/data, imported once per module and database (SQLite and
PostgreSQL), then read back through the CLI's JSON and compared with an independent recomputation
in plain Python (csv + Decimal). Skipped with a visible reason when ../shared/data is absent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import fresh_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database shared by the tests of one module (the import runs once)."""
    with fresh_database(request.param, tmp_path_factory.mktemp("real"), "attain_real") as url:
        yield url
