"""Tableau Superstore, current edition (2019–2022, dd/mm/yy dates, UTF-8 with BOM): region managers
from the People sheet of the workbook, returned orders, and a plan for the last year grown from the
year before and split by region × month on its seasonality. The classic edition: test_superstore_classic.py."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from realdata import attain, by_label, cents, data_dir, read_rows
from sqlalchemy import select
from sqlalchemy.orm import aliased

from attain.db import get_engine, make_session_factory
from attain.org.models import OrgNode

PLAN = "Superstore 2022"


@pytest.fixture(scope="module")
def folder() -> Path:
    return data_dir("superstore")


@pytest.fixture(scope="module")
def run(empty_db: str, folder: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    """The documented commands, once per database; their JSON by step."""
    url = empty_db
    out: dict[str, dict] = {"url": url}  # type: ignore[dict-item]
    out["people"] = attain(url, "import", "regions", str(folder / "Sample - Superstore.xls"), "--sheet", "People")
    out["orders"] = attain(url, "import", "orders", str(folder / "Sample - Superstore.csv"), "--rep-from-region")
    out["gross 2022"] = attain(url, "report", "actuals", "--period", "2022", "--by", "region")
    out["returns"] = attain(url, "import", "returns", str(folder / "Sample - Superstore - Returns.csv"))
    out["orders again"] = attain(url, "import", "orders", str(folder / "Sample - Superstore.csv"), "--rep-from-region")
    out["plan"] = attain(url, "plan", "create", "--name", PLAN, "--year", "2022", "--growth", "10%")
    out["split"] = attain(url, "plan", "split", PLAN, "--by", "org,time", "--method", "history", "--time-method", "seasonal")
    return out


@pytest.fixture(scope="module")
def current(folder: Path) -> list[dict[str, str]]:
    return read_rows(folder / "Sample - Superstore.csv", encoding="utf-8-sig")


@pytest.fixture(scope="module")
def returned(folder: Path) -> set[str]:
    return {row["Order ID"] for row in read_rows(folder / "Sample - Superstore - Returns.csv")}


def _dd_mm_yy_month(text: str) -> str:
    _day, month, year = text.split("/")
    return f"20{year}-{month}"


def _totals(rows: list[dict[str, str]], key) -> dict[str, Decimal]:  # type: ignore[no-untyped-def]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[key(row)] += cents(row["Sales"])  # 4-decimal sales: each line rounded half up to the cent
    return dict(totals)


def test_import_as_it_is_and_again_changes_nothing(run: dict, current: list, returned: set) -> None:  # type: ignore[type-arg]
    assert (run["orders"]["inserted"], run["orders"]["encoding"]) == (len(current), "utf-8-sig")
    assert (run["orders again"]["inserted"], run["orders again"]["updated"], run["orders again"]["unchanged"]) == (0, 0, len(current))
    assert run["returns"]["inserted"] == len(returned)
    # Every line has a region, and every region a manager from the People sheet.
    assert "without_rep" not in run["orders"]["flagged"]


def test_region_managers_come_from_the_people_sheet(run: dict, folder: Path) -> None:  # type: ignore[type-arg]
    session = make_session_factory(get_engine(run["url"]))()
    manager = aliased(OrgNode)
    try:
        heads = dict(session.execute(
            select(OrgNode.code, manager.name).join(manager, manager.id == OrgNode.manager_id).where(OrgNode.kind == "region")
        ).all())
    finally:
        session.close()
    assert heads == {row["Region"]: row["Regional Manager"] for row in read_rows(folder / "Sample - Superstore - People.csv")}


def test_monthly_totals_net_of_returned_orders(run: dict, current: list, returned: set) -> None:  # type: ignore[type-arg]
    kept = [row for row in current if row["Order ID"] not in returned]
    expected = _totals(kept, lambda row: _dd_mm_yy_month(row["Order Date"]))
    found: dict[str, Decimal] = {}
    for year in ("2019", "2020", "2021", "2022"):
        found.update(by_label(attain(run["url"], "report", "actuals", "--period", year, "--by", "month"), "month"))
    assert {m: v for m, v in found.items() if v} == expected


def test_returned_orders_leave_attainment_only_once_recorded(run: dict, current: list, returned: set) -> None:  # type: ignore[type-arg]
    in_2022 = [row for row in current if row["Order Date"].endswith("/22")]
    assert by_label(run["gross 2022"], "region") == _totals(in_2022, lambda row: row["Region"])
    net = attain(run["url"], "report", "actuals", "--period", "2022", "--by", "region")
    assert by_label(net, "region") == _totals([r for r in in_2022 if r["Order ID"] not in returned], lambda row: row["Region"])


def test_plan_grown_from_last_year_and_attainment_by_region(run: dict, current: list, returned: set) -> None:  # type: ignore[type-arg]
    last_year = sum(_totals([r for r in current if r["Order Date"].endswith("/21") and r["Order ID"] not in returned],
                            lambda row: "all").values())
    assert Decimal(run["plan"]["last_year"]) == last_year
    report = attain(run["url"], "report", "attainment", "--period", "2022", "--by", "region", "--plan", PLAN)
    actual = _totals([r for r in current if r["Order Date"].endswith("/22") and r["Order ID"] not in returned], lambda row: row["Region"])
    rows = {row["labels"]["region"]: row for row in report["rows"]}
    assert sum(Decimal(row["target"]) for row in rows.values()) == Decimal(run["plan"]["total"])
    for region, value in actual.items():
        row = rows[region]
        assert Decimal(row["actual"]) == value, region
        assert abs(Decimal(row["attainment"]) - value / Decimal(row["target"])) <= Decimal("0.00005"), region
