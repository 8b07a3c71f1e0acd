"""UCI Online Retail sample graded by `attain report customers`, checked against an independent
recomputation from the CSV (csv + Decimal): revenue per customer over the 365 days up to the last
invoice day to the cent (quantity × unit price rounded half up per line, cancellations negative),
orders with a purchase, days since the last purchase, and ABC grades at 80/15 and 70/20."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from realdata import attain, cents, data_dir, read_rows

AS_OF = date(2011, 12, 9)  # the file's last invoice day
SINCE = AS_OF - timedelta(days=364)


@pytest.fixture(scope="module")
def url(empty_db: str) -> str:
    path = data_dir("online_retail_uci_sample") / "OnlineRetail.csv"
    attain(empty_db, "import", "orders", str(path))
    return empty_db


@pytest.fixture(scope="module")
def expected() -> dict[str, dict]:  # type: ignore[type-arg]
    """Per customer id (as written, without '.0'): revenue in the window, orders with a purchase in it,
    last purchase day; lines without a customer left out."""
    rows = read_rows(data_dir("online_retail_uci_sample") / Path("OnlineRetail.csv"))
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    orders: dict[str, set[str]] = defaultdict(set)
    last: dict[str, date] = {}
    for row in rows:
        customer = row["CustomerID"].strip()
        if not customer:
            continue
        customer = str(int(Decimal(customer)))  # '12923.0' → '12923'
        day = date.fromisoformat(row["InvoiceDate"][:10])
        amount = cents(Decimal(row["Quantity"]) * Decimal(row["UnitPrice"]))
        revenue[customer] += amount if SINCE <= day <= AS_OF else 0
        if amount > 0:
            last[customer] = max(last.get(customer, day), day)
            if SINCE <= day <= AS_OF:
                orders[customer].add(row["InvoiceNo"])
    return {c: {"revenue": revenue[c], "orders": len(orders[c]), "last": last.get(c)} for c in revenue}


def _abc(revenue: dict[str, Decimal], a: Decimal, b: Decimal) -> dict[str, str]:
    """ABC from the definition: walk the distinct revenues from the top; a level is A while the revenue
    above it is short of a % of the positive total, B while short of a + b %, else C (≤ 0 is C)."""
    total = sum(v for v in revenue.values() if v > 0)
    grade_of_level: dict[Decimal, str] = {}
    above = Decimal(0)
    for level in sorted(set(revenue.values()), reverse=True):
        if level <= 0:
            grade_of_level[level] = "C"
            continue
        grade_of_level[level] = "A" if above * 100 < a * total else "B" if above * 100 < (a + b) * total else "C"
        above += level * sum(1 for v in revenue.values() if v == level)
    return {customer: grade_of_level[value] for customer, value in revenue.items()}


def test_revenue_orders_and_recency_per_customer(url: str, expected: dict) -> None:  # type: ignore[type-arg]
    payload = attain(url, "report", "customers", "--as-of", AS_OF.isoformat())
    rows = {row["code"]: row for row in payload["rows"]}
    assert len(rows) == payload["customers"] == len(expected)
    assert {c: Decimal(row["revenue"]) for c, row in rows.items()} == {c: e["revenue"] for c, e in expected.items()}
    assert {c: row["orders"] for c, row in rows.items()} == {c: e["orders"] for c, e in expected.items()}
    assert {c: row["recency_days"] for c, row in rows.items()} == {
        c: None if e["last"] is None else (AS_OF - e["last"]).days for c, e in expected.items()
    }
    assert Decimal(payload["revenue"]) == sum(e["revenue"] for e in expected.values())
    revenues = [Decimal(row["revenue"]) for row in payload["rows"]]
    assert revenues == sorted(revenues, reverse=True)


@pytest.mark.parametrize(("abc", "a", "b"), [("80,15", Decimal(80), Decimal(15)), ("70,20", Decimal(70), Decimal(20))])
def test_abc_grades_match_the_cumulative_share(url: str, expected: dict, abc: str, a: Decimal, b: Decimal) -> None:  # type: ignore[type-arg]
    payload = attain(url, "report", "customers", "--as-of", AS_OF.isoformat(), "--abc", abc)
    grades = {row["code"]: row["abc"] for row in payload["rows"]}
    assert grades == _abc({c: e["revenue"] for c, e in expected.items()}, a, b)
    summary = payload["summary"]["grades"]
    for grade in "ABC":
        assert summary[grade]["customers"] == sum(1 for g in grades.values() if g == grade)
        assert Decimal(summary[grade]["revenue"]) == sum(e["revenue"] for c, e in expected.items() if grades[c] == grade)
    assert Decimal(summary["A"]["share"]) >= a / 100


def test_rfm_scores_only_for_customers_with_a_purchase_in_the_window(url: str, expected: dict) -> None:  # type: ignore[type-arg]
    payload = attain(url, "report", "customers", "--as-of", AS_OF.isoformat())
    for row in payload["rows"]:
        scored = expected[row["code"]]["orders"] > 0
        assert (row["r"] > 0 and row["f"] > 0 and row["m"] > 0) == scored, row
        assert row["segment"] in (("champions", "loyal", "new", "promising", "at_risk", "hibernating", "lost") if scored
                                  else ("lost", "prospect"))
