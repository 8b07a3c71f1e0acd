"""Real ERP exports from ../shared/data, imported as they are (skipped when the folder is absent)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.facts.models import OrderLine
from attain.imports.service import ImportOptions, import_file


def test_adventureworks_reseller_sales_import_exactly(session: Session, shared_data: Path) -> None:
    path = shared_data / "adventureworks_pl300_targets" / "FactResellerSales.csv"
    options = ImportOptions(mapping=("line_id=SalesOrderNumber+ProductKey",))

    first = import_file(session=session, kind="orders", path=path, options=options)
    again = import_file(session=session, kind="orders", path=path, options=options)

    expected_total, expected_lines = duckdb.sql(
        f"SELECT sum(CAST(SalesAmount AS DECIMAL(18, 4))), count(*) FROM read_csv('{path}', all_varchar = true)"
    ).fetchall()[0]
    assert (first.inserted, first.rows) == (expected_lines, 57_851)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 57_851)
    total, missing_costs = session.execute(
        select(func.sum(OrderLine.amount), func.count().filter(OrderLine.cost.is_(None)))
    ).one()
    assert Decimal(total) / 100 == expected_total  # exact to the cent
    assert missing_costs == 76  # "NULL" in TotalProductCost
    assert first.created["reps"] == 17 and first.created["regions"] == 10
