"""Real public data sets from ../shared/data, imported once per module and database (SQLite and
PostgreSQL), then read back through the CLI's JSON and compared with an independent recomputation
in plain Python (csv + Decimal). Skipped with a visible reason when ../shared/data is absent."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from attain.db import get_engine, resolve_database_url
from attain.migrate import upgrade


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database shared by the tests of one module (the import runs once)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('real') / 'attain.db'}"
        upgrade(get_engine(url))
        yield url
        get_engine(url).dispose()
        return
    base = os.environ.get("ATTAIN_TEST_PG_URL")
    if not base:
        pytest.skip("PostgreSQL tests need ATTAIN_TEST_PG_URL (e.g. postgresql://postgres@127.0.0.1/test)")
    schema = f"attain_real_{uuid.uuid4().hex[:12]}"
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
