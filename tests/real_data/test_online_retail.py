"""UCI Online Retail sample: no amount column (revenue = quantity × unit price, exact, rounded half
up per line), cancellations ('C' invoices, negative quantities) kept as negative lines, customer ids
written as decimals ('12923.0'), and 2,000 lines without a customer kept and counted."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from realdata import attain, by_label, cents, data_dir, read_rows
from sqlalchemy import func, select

from attain.catalog.models import Customer
from attain.db import get_engine, make_session_factory
from attain.facts.models import OrderLine


@pytest.fixture(scope="module")
def path() -> Path:
    return data_dir("online_retail_uci_sample") / "OnlineRetail.csv"


@pytest.fixture(scope="module")
def run(empty_db: str, path: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    url = empty_db
    return {"url": url, "first": attain(url, "import", "orders", str(path)), "again": attain(url, "import", "orders", str(path))}  # type: ignore[dict-item]


@pytest.fixture(scope="module")
def lines(path: Path) -> list[dict[str, str]]:
    return read_rows(path)


def _revenue(row: dict[str, str]) -> Decimal:
    return cents(Decimal(row["Quantity"]) * Decimal(row["UnitPrice"]))


def test_every_line_kept_and_counted_and_again_changes_nothing(run: dict, lines: list) -> None:  # type: ignore[type-arg]
    first, again = run["first"], run["again"]
    assert first["inserted"] == len(lines) == 30_000
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, len(lines))
    assert first["flagged"] == {
        "negative": sum(1 for row in lines if Decimal(row["Quantity"]) < 0),
        "without_customer": sum(1 for row in lines if not row["CustomerID"]),
    }
    cancellations = [row for row in lines if row["InvoiceNo"].startswith("C")]
    assert len(cancellations) == 620 and all(Decimal(row["Quantity"]) < 0 for row in cancellations)


def test_monthly_revenue_is_quantity_times_price_with_cancellations_negative(run: dict, lines: list) -> None:  # type: ignore[type-arg]
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for row in lines:
        expected[row["InvoiceDate"][:7]] += _revenue(row)
    found = {**by_label(attain(run["url"], "report", "actuals", "--period", "2010", "--by", "month"), "month"),
             **by_label(attain(run["url"], "report", "actuals", "--period", "2011", "--by", "month"), "month")}
    assert {m: v for m, v in found.items() if v} == dict(expected)


def test_customer_ids_written_as_decimals_are_normalised(run: dict, lines: list) -> None:  # type: ignore[type-arg]
    session = make_session_factory(get_engine(run["url"]))()
    try:
        codes = set(session.scalars(select(Customer.code)))
        cancelled = session.scalar(select(func.sum(OrderLine.amount)).where(OrderLine.order_id.startswith("C")))
        no_customer = session.scalar(select(func.count()).select_from(OrderLine).where(OrderLine.customer_id.is_(None)))
    finally:
        session.close()
    assert codes == {row["CustomerID"].removesuffix(".0") for row in lines if row["CustomerID"]}
    assert "12923" in codes
    assert Decimal(cancelled) / 100 == sum(_revenue(row) for row in lines if row["InvoiceNo"].startswith("C"))
    assert no_customer == sum(1 for row in lines if not row["CustomerID"])
