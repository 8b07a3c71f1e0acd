"""AdventureWorks OLTP: tab-separated files without a header row. Quarterly quota history (one date
per quarter, e.g. 2011-05-31 for 2011Q2) becomes quarterly targets; territory history becomes dated
coverage; the first 1,000 order headers (NULL written as text) give the actuals."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from realdata import attain, attain_fails, cents, data_dir, read_rows
from sqlalchemy import select

from attain.db import get_engine, make_session_factory
from attain.org.models import OrgNode, RepTerritory

PLAN = "Quotas"
QUOTA_COLUMNS = "org,period,value,rowguid,modified"


@pytest.fixture(scope="module")
def folder() -> Path:
    return data_dir("adventureworks_oltp_quota")


@pytest.fixture(scope="module")
def run(empty_db: str, folder: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    url = empty_db
    quotas = ("import", "targets", str(folder / "SalesPersonQuotaHistory.csv"), "--columns", QUOTA_COLUMNS,
              "--period-grain", "quarter", "--plan", PLAN)
    return {
        "url": url,  # type: ignore[dict-item]
        "territories": attain(url, "import", "regions", str(folder / "SalesTerritory.csv"), "--columns", "code,name,country,parent"),
        "reps": attain(url, "import", "reps", str(folder / "SalesPerson.csv"), "--columns", "code,region"),
        "history": attain(url, "import", "territories", str(folder / "SalesTerritoryHistory.csv"),
                          "--columns", "rep,region,start_date,end_date"),
        "quotas": attain(url, *quotas),
        "quotas again": attain(url, *quotas),
        "orders": attain(url, "import", "orders", str(folder / "Sales.SalesOrderHeader.csv"), "--map", "amount=SubTotal"),
    }


@pytest.fixture(scope="module")
def quotas(folder: Path) -> list[dict[str, str]]:
    return read_rows(folder / "SalesPersonQuotaHistory.csv", delimiter="\t", fieldnames=QUOTA_COLUMNS.split(","))


def _quarter(day: str) -> str:
    year, month = int(day[:4]), int(day[5:7])
    return f"{year}Q{(month - 1) // 3 + 1}"


def test_headerless_files_import_and_quotas_again_change_nothing(run: dict, quotas: list) -> None:  # type: ignore[type-arg]
    assert (run["territories"]["inserted"], run["reps"]["inserted"]) == (10, 17)
    assert run["quotas"]["inserted"] == len(quotas) == 163
    again = run["quotas again"]
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 163)
    assert run["orders"]["inserted"] == 1_000 and run["orders"]["created"].get("reps") is None


def test_quarterly_targets_and_attainment_by_rep(run: dict, quotas: list, folder: Path) -> None:  # type: ignore[type-arg]
    headers = read_rows(folder / "Sales.SalesOrderHeader.csv")
    for quarter in ("2011Q2", "2011Q3"):
        target = {row["org"]: Decimal(row["value"]) for row in quotas if _quarter(row["period"]) == quarter}
        actual: dict[str, Decimal] = defaultdict(Decimal)
        for row in headers:
            if row["SalesPersonID"] != "NULL" and _quarter(row["OrderDate"]) == quarter:
                actual[row["SalesPersonID"]] += cents(row["SubTotal"])
        report = attain(run["url"], "report", "attainment", "--period", quarter, "--by", "rep", "--plan", PLAN, "--as-of", "2011-12-31")
        rows = {row["labels"]["rep"]: row for row in report["rows"]}
        assert {rep for rep, row in rows.items() if row["target"]} == set(target), quarter
        for rep, value in target.items():
            assert Decimal(rows[rep]["target"]) == value, (quarter, rep)
            assert Decimal(rows[rep]["actual"]) == actual.get(rep, Decimal(0)), (quarter, rep)


def test_territory_history_is_dated_coverage(run: dict, folder: Path) -> None:  # type: ignore[type-arg]
    rows = read_rows(folder / "SalesTerritoryHistory.csv", delimiter="\t",
                     fieldnames=["rep", "region", "start", "end", "rowguid", "modified"])
    expected = {(r["rep"], r["region"], date.fromisoformat(r["start"][:10]), date.fromisoformat(r["end"][:10]) if r["end"] else None)
                for r in rows}
    session = make_session_factory(get_engine(run["url"]))()
    try:
        codes = dict(session.execute(select(OrgNode.id, OrgNode.code)).all())
        found = {(codes[rep], codes[region], start, end) for rep, region, start, end in session.execute(
            select(RepTerritory.rep_id, RepTerritory.region_id, RepTerritory.start_date, RepTerritory.end_date))}
    finally:
        session.close()
    assert found == expected


def test_quota_date_without_grain_is_a_day_and_a_year_is_too_long_for_a_quarter(run: dict, folder: Path, tmp_path: Path) -> None:  # type: ignore[type-arg]
    url, path = run["url"], folder / "SalesPersonQuotaHistory.csv"
    daily = attain(url, "import", "targets", str(path), "--columns", QUOTA_COLUMNS, "--plan", "Quota days")
    assert daily["inserted"] == 163  # one target per quota day, as the file says without --period-grain
    yearly = tmp_path / "yearly.tsv"
    yearly.write_text("274\t2012\t100000\n", encoding="utf-8")
    refused = attain_fails(url, "import", "targets", str(yearly), "--columns", "org,period,value", "--period-grain", "quarter", "--plan", PLAN)
    assert refused["errors"][0]["message"] == "period '2012' is longer than a quarter; --period-grain quarter needs dates or shorter periods"
    wrong = attain_fails(url, "import", "targets", str(path), "--columns", "org,period,value,rowguid,modified,extra", "--plan", PLAN)
    assert "--columns names 6 columns" in wrong["error"]
