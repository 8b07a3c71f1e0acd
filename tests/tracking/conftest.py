"""Fixtures for tracking tests: the demo company loaded once per test run on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from attain.db import get_engine, make_session_factory
from tests.databases import demo_database

DEMO_YEAR = 2026
DEMO_AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database holding the demo company (year 2026, data up to 2026-11-23). Read-only for tests."""
    with demo_database(request.param, tmp_path_factory.mktemp("demo"), "attain_track", year=DEMO_YEAR,
                       as_of=DEMO_AS_OF) as url:
        yield url


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
