"""Fixtures for tracking tests: the demo company loaded once per test run on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from attain.db import get_engine, make_session_factory, resolve_database_url
from attain.demo.service import load_demo
from attain.migrate import upgrade

DEMO_YEAR = 2026
DEMO_AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database holding the demo company (year 2026, data up to 2026-11-23). Read-only for tests."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'attain.db'}"
        cleanup = None
    else:
        base = os.environ.get("ATTAIN_TEST_PG_URL")
        if not base:
            pytest.skip("PostgreSQL tests need ATTAIN_TEST_PG_URL (e.g. postgresql://postgres@127.0.0.1/test)")
        schema = f"attain_track_{uuid.uuid4().hex[:12]}"
        admin = create_engine(resolve_database_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in base else "?"
        url = resolve_database_url(f"{base}{separator}options=-csearch_path%3D{schema}")

        def cleanup() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    try:
        upgrade(get_engine(url))
        session = make_session_factory(get_engine(url))()
        try:
            load_demo(session=session, seed=2026, year=DEMO_YEAR, as_of=DEMO_AS_OF)
        finally:
            session.close()
        yield url
    finally:
        get_engine(url).dispose()
        if cleanup:
            cleanup()


@pytest.fixture
def demo(demo_url: str) -> Iterator[Session]:
    session = make_session_factory(get_engine(demo_url))()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture(scope="session")
def demo_parquet(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's order lines written to a Parquet file by DuckDB (for --engine duckdb)."""
    import duckdb
    import pandas as pd

    with get_engine(demo_url).connect() as connection:
        frame = pd.read_sql(text("SELECT * FROM order_lines"), connection)
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["quantity"] = frame["quantity"].astype(str)
    path = tmp_path_factory.mktemp("parquet") / "orders.parquet"
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(
        "COPY (SELECT id, line_id, order_id, CAST(order_date AS DATE) AS order_date, rep_id, customer_id, product_id, "
        "region_id, CAST(quantity AS DECIMAL(18,4)) AS quantity, amount, cost, currency FROM frame) "
        f"TO '{path}' (FORMAT parquet)"
    )
    con.close()
    return path
