"""AdventureWorks reseller sales (PL-300 edition) with the original UTF-16 wide quota sheet.

The targets are keyed by EmployeeID while the sales use EmployeeKey: the reps' external ids join
them. Figures are compared to the cent with a recomputation from the files by the csv module."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from realdata import attain, attain_fails, by_label, cents, data_dir, read_rows
from sqlalchemy import select

from attain.db import get_engine, make_session_factory
from attain.org.models import OrgNode, RepTerritory

PLAN = "AW targets"
AS_OF = ["--as-of", "2020-06-30"]


@pytest.fixture(scope="module")
def folder() -> Path:
    return data_dir("adventureworks_pl300_targets")


@pytest.fixture(scope="module")
def imported(empty_db: str, folder: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    """The documented commands (docs/real-data.md), run once per database; their JSON by step."""
    url = empty_db
    steps = {
        "regions": ("import", "regions", str(folder / "Region.csv")),
        "reps": ("import", "reps", str(folder / "SalespersonPerformance.csv")),
        "territories": ("import", "territories", str(folder / "SalespersonRegion.csv")),
        "customers": ("import", "customers", str(folder / "Resellers.csv")),
        "products": ("import", "products", str(folder / "Product.csv")),
        "orders": ("import", "orders", str(folder / "FactResellerSales.csv"), "--map", "line_id=SalesOrderNumber+ProductKey"),
        "june": ("import", "orders", str(folder / "ResellerSales_202006.csv")),
        "targets": ("import", "targets", str(folder / "ResellerSalesTargets.csv"), "--plan", PLAN, "--scale", "1000"),
    }
    results = {name: attain(url, *args) for name, args in steps.items()}
    for name in ("orders", "june", "targets", "territories", "reps"):
        results[f"{name} again"] = attain(url, *steps[name])
    results["url"] = url  # type: ignore[assignment]
    return results


@pytest.fixture(scope="module")
def sales(folder: Path) -> list[dict[str, str]]:
    # The June increment is read from its UTF-8 copy: Attain reads the UTF-16 original.
    return read_rows(folder / "FactResellerSales.csv") + read_rows(folder / "ResellerSales_202006.utf8.csv")


@pytest.fixture(scope="module")
def people(folder: Path) -> dict[str, dict[str, str]]:
    return {row["EmployeeKey"]: row for row in read_rows(folder / "SalespersonPerformance.csv")}


@pytest.fixture(scope="module")
def targets(folder: Path) -> dict[tuple[str, str], Decimal]:
    """(EmployeeID, 'YYYY-MM') → target in dollars: the UTF-8 copy, '-' is no target, values in thousands."""
    out: dict[tuple[str, str], Decimal] = {}
    for row in read_rows(folder / "ResellerSalesTargets.utf8.csv"):
        for month in range(1, 13):
            value = row[f"M{month:02d}"]
            if value != "-":
                out[(row["EmployeeID"], f"{row['Year']}-{month:02d}")] = Decimal(value) * 1000
    return out


def _sum_by(rows: list[dict[str, str]], key) -> dict[str, Decimal]:  # type: ignore[no-untyped-def]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[key(row)] += cents(row["SalesAmount"])
    return dict(totals)


def test_every_file_imports_as_it_is_and_again_changes_nothing(imported: dict, sales: list) -> None:  # type: ignore[type-arg]
    assert imported["orders"]["inserted"] == 57_851
    assert imported["june"]["inserted"] == 3_004 and imported["june"]["encoding"] == "utf-16"
    assert imported["orders"]["inserted"] + imported["june"]["inserted"] == len(sales)
    # Sales name reps, resellers, products and territories imported before: nothing new is created.
    assert imported["orders"]["created"] == {} and imported["june"]["created"] == {}
    assert (imported["reps"]["inserted"], imported["regions"]["inserted"], imported["territories"]["inserted"]) == (18, 10, 39)
    assert imported["targets"]["encoding"] == "utf-16" and imported["targets"]["inserted"] == 809
    for name, rows in (("orders", 57_851), ("june", 3_004), ("targets", 809), ("territories", 39), ("reps", 18)):
        again = imported[f"{name} again"]
        assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, rows), name


def test_monthly_totals_match_the_files_to_the_cent(imported: dict, sales: list) -> None:  # type: ignore[type-arg]
    expected = _sum_by(sales, lambda row: row["OrderDate"][:7])
    found: dict[str, Decimal] = {}
    for year in ("2017", "2018", "2019", "2020"):
        found.update(by_label(attain(imported["url"], "report", "actuals", "--period", year, "--by", "month"), "month"))
    assert {month: value for month, value in found.items() if value} == expected


def test_attainment_by_salesperson_uses_the_targets_keyed_by_employee_id(
    imported: dict, sales: list, people: dict, targets: dict  # type: ignore[type-arg]
) -> None:
    report = attain(imported["url"], "report", "attainment", "--period", "2019", "--by", "rep", "--plan", PLAN, *AS_OF)
    actual = _sum_by([r for r in sales if r["OrderDate"].startswith("2019")], lambda row: people[row["EmployeeKey"]]["Salesperson"])
    target: dict[str, Decimal] = defaultdict(Decimal)
    for (employee_id, month), value in targets.items():
        if month.startswith("2019"):
            name = next(p["Salesperson"] for p in people.values() if p["EmployeeID"] == employee_id)
            target[name] += value
    rows = {row["labels"]["rep"]: row for row in report["rows"]}
    assert set(target) <= set(rows)
    for name, value in target.items():
        row = rows[name]
        assert Decimal(row["actual"]) == actual.get(name, Decimal(0)), name
        assert Decimal(row["target"]) == value, name
        assert abs(Decimal(row["attainment"]) - actual.get(name, Decimal(0)) / value) <= Decimal("0.00005"), name
        # Managers' and the director's targets are their own rows, never the sum of their reps'.
        assert row["target_source"] == "own", name
    assert rows["Brian Welcker"]["target"] == "55500000.00"  # the director: own target, no own sales
    # Without manager_titles the total adds every row and the report says whose titles suggest managers.
    assert Decimal(report["total"]["target"]) == sum(target.values())
    (warning,) = [w for w in report["warnings"] if "titles suggest managers" in w]
    assert "Stephen Jiang" in warning and "Brian Welcker" in warning


MANAGERS = {"Stephen Jiang", "Brian Welcker", "Amy Alberts", "Syed Abbas"}  # the sheet's managers and director


def test_managers_targets_are_on_their_rows_and_not_added_into_the_total(
    imported: dict, people: dict, targets: dict  # type: ignore[type-arg]
) -> None:
    url = imported["url"]
    attain(url, "config", "set", "manager_titles", "manager|director")
    try:
        report = attain(url, "report", "attainment", "--period", "2019", "--by", "rep", "--plan", PLAN, *AS_OF)
        by_month = attain(url, "report", "attainment", "--period", "2019Q3", "--by", "rep,month", "--plan", PLAN, *AS_OF)
    finally:
        attain(url, "config", "set", "manager_titles", "")
    name_of = {p["EmployeeID"]: p["Salesperson"] for p in people.values()}
    target: dict[str, Decimal] = defaultdict(Decimal)
    for (employee_id, month), value in targets.items():
        if month.startswith("2019"):
            target[name_of[employee_id]] += value
    rows = {row["labels"]["rep"]: row for row in report["rows"]}
    for name, value in target.items():
        assert Decimal(rows[name]["target"]) == value, name  # every row keeps its own figure
        assert rows[name]["target_source"] == ("own (manager)" if name in MANAGERS else "own"), name
    # The total: the salespeople's targets only, each counted once.
    assert Decimal(report["total"]["target"]) == sum(v for n, v in target.items() if n not in MANAGERS)
    assert report["total"]["target_source"] == "sum of children"
    (warning,) = [w for w in report["warnings"] if "leaves out" in w]
    assert warning.startswith("the total leaves out the own targets of 4 managers")
    quarter = sum(v for (e, m), v in targets.items() if m in ("2019-07", "2019-08", "2019-09") and name_of[e] not in MANAGERS)
    assert Decimal(by_month["total"]["target"]) == quarter


def test_quarter_and_june_increment_by_salesperson(imported: dict, sales: list, people: dict, targets: dict) -> None:  # type: ignore[type-arg]
    for period, months in (("2019Q3", ("2019-07", "2019-08", "2019-09")), ("2020-06", ("2020-06",))):
        report = attain(imported["url"], "report", "attainment", "--period", period, "--by", "rep", "--plan", PLAN, *AS_OF)
        actual = _sum_by([r for r in sales if r["OrderDate"][:7] in months], lambda row: people[row["EmployeeKey"]]["Salesperson"])
        for row in report["rows"]:
            name = row["labels"]["rep"]
            employee_id = next(p["EmployeeID"] for p in people.values() if p["Salesperson"] == name)
            assert Decimal(row["actual"]) == actual.get(name, Decimal(0)), (period, name)
            assert Decimal(row["target"] or 0) == sum(targets.get((employee_id, m), Decimal(0)) for m in months), (period, name)


def test_fiscal_year_from_july(imported: dict, sales: list, people: dict, targets: dict) -> None:  # type: ignore[type-arg]
    url = imported["url"]
    attain(url, "config", "set", "fiscal_year_start_month", "7")
    try:
        report = attain(url, "report", "attainment", "--period", "FY2020", "--by", "rep", "--plan", PLAN, *AS_OF)
    finally:
        attain(url, "config", "set", "fiscal_year_start_month", "1")
    in_fy = [r for r in sales if "2019-07-01" <= r["OrderDate"] <= "2020-06-30"]
    actual = _sum_by(in_fy, lambda row: people[row["EmployeeKey"]]["Salesperson"])
    months = {f"2019-{m:02d}" for m in range(7, 13)} | {f"2020-{m:02d}" for m in range(1, 7)}
    assert (report["time_progress"]["start"], report["time_progress"]["end"]) == ("2019-07-01", "2020-06-30")
    for row in report["rows"]:
        name = row["labels"]["rep"]
        employee_id = next(p["EmployeeID"] for p in people.values() if p["Salesperson"] == name)
        assert Decimal(row["actual"]) == actual.get(name, Decimal(0)), name
        assert Decimal(row["target"] or 0) == sum(v for (e, m), v in targets.items() if e == employee_id and m in months), name


def test_leaderboard_ranks_by_attainment(imported: dict) -> None:  # type: ignore[type-arg]
    url = imported["url"]
    board = attain(url, "report", "leaderboard", "--period", "2019", "--plan", PLAN, *AS_OF)
    attainment = {row["labels"]["rep"]: Decimal(row["attainment"])
                  for row in attain(url, "report", "attainment", "--period", "2019", "--by", "rep", "--plan", PLAN, *AS_OF)["rows"]
                  if row["attainment"] is not None}
    ranked = [row for row in board["rows"] if row.get("attainment") is not None]
    assert [Decimal(row["attainment"]) for row in ranked] == sorted(attainment.values(), reverse=True)


def test_territory_coverage_is_the_many_to_many_file(imported: dict, folder: Path) -> None:  # type: ignore[type-arg]
    expected = {(row["EmployeeKey"], row["SalesTerritoryKey"]) for row in read_rows(folder / "SalespersonRegion.csv")}
    session = make_session_factory(get_engine(imported["url"]))()
    try:
        codes = dict(session.execute(select(OrgNode.id, OrgNode.code)).all())
        found = {(codes[rep], codes[region]) for rep, region in session.execute(select(RepTerritory.rep_id, RepTerritory.region_id))}
        external = dict(session.execute(select(OrgNode.code, OrgNode.external_id).where(OrgNode.kind == "rep")).all())
    finally:
        session.close()
    assert found == expected
    assert external["286"] == "61161660"  # Pamela Ansman-Wolfe: EmployeeKey code, EmployeeID external id


def test_targets_by_external_id_only_or_by_code_only(imported: dict, folder: Path) -> None:  # type: ignore[type-arg]
    url, sheet = imported["url"], str(folder / "ResellerSalesTargets.csv")
    strict = attain(url, "import", "targets", sheet, "--plan", "AW strict", "--scale", "1000", "--key", "external_id")
    assert strict["inserted"] == 809
    refused = attain_fails(url, "import", "targets", sheet, "--plan", "AW codes", "--scale", "1000", "--key", "code")
    assert refused["error"].endswith("nothing was imported") and refused["error_count"] == 809
    assert refused["errors"][0] == {"line": 2, "column": "EmployeeID",
                                    "message": "no rep or org node with code or name '61161660'; import reps first"}
