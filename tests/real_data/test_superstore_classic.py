"""Tableau Superstore, classic edition (2014–2017, ISO dates): the CSV export and the original .xls
workbook hold the same lines, and the yearly totals match the file to the cent."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from realdata import attain, cents, data_dir, read_rows


@pytest.fixture(scope="module")
def folder() -> Path:
    return data_dir("superstore") / "classic_tableau10"


@pytest.fixture(scope="module")
def run(empty_db: str, folder: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    url = empty_db
    return {
        "url": url,  # type: ignore[dict-item]
        "people": attain(url, "import", "regions", str(folder / "Sample - Superstore - People.csv")),
        "csv": attain(url, "import", "orders", str(folder / "Sample - Superstore - Orders.csv"), "--rep-from-region"),
        "xls": attain(url, "import", "orders", str(folder / "Sample - Superstore.xls"), "--sheet", "Orders", "--rep-from-region"),
    }


@pytest.fixture(scope="module")
def orders(folder: Path) -> list[dict[str, str]]:
    return read_rows(folder / "Sample - Superstore - Orders.csv")


def test_workbook_and_csv_export_hold_the_same_lines(run: dict, orders: list) -> None:  # type: ignore[type-arg]
    assert run["csv"]["inserted"] == len(orders) == 9_994
    # Excel keeps 15 significant digits: 213.115 is the double 213.11499999999998 but reads as 213.115.
    assert (run["xls"]["inserted"], run["xls"]["updated"], run["xls"]["unchanged"]) == (0, 0, 9_994)
    assert sum(Decimal(row["Sales"]) for row in orders) == Decimal("2297200.8603")  # README: 2,297,200.86


def test_totals_by_year_and_region(run: dict, orders: list) -> None:  # type: ignore[type-arg]
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in orders:
        expected[(row["Order Date"][:4], row["Region"])] += cents(row["Sales"])
    found: dict[tuple[str, str], Decimal] = {}
    for year in ("2014", "2015", "2016", "2017"):
        report = attain(run["url"], "report", "actuals", "--period", year, "--by", "region")
        found.update({(year, row["labels"]["region"]): Decimal(row["value"]) for row in report["rows"]})
    assert found == dict(expected)
