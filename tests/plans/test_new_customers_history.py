"""Issue 17: the SMART check and the history split read new customers as buying customers
(count distinct customer_id): a 2027 plan of 13,000 new customers was compared with "last year 9,861"
while 2026 had 169. New customers are those whose FIRST order falls in the period; on the demo, on
SQLite and PostgreSQL, against an independent pandas count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from attain.db import get_engine, make_session_factory
from attain.metrics.models import Metric
from attain.org.models import OrgNode
from attain.plans import data
from attain.plans.check import check_plan
from attain.plans.setting import create_target
from attain.plans.splitting import SplitOptions, split_plan
from tests.databases import demo_database

YEAR = (date(2026, 1, 1), date(2026, 11, 23))


@pytest.fixture(params=["sqlite", "postgresql"])
def company(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    with demo_database(request.param, tmp_path, "attain_newcust") as url:
        session = make_session_factory(get_engine(url))()
        try:
            yield session
        finally:
            session.close()


def _frame(session: Session) -> pd.DataFrame:
    lines = pd.read_sql(text("SELECT l.order_date, l.rep_id, l.customer_id, c.first_order_date FROM order_lines l "
                             "JOIN customers c ON c.id = l.customer_id"), session.connection())
    for column in ("order_date", "first_order_date"):
        lines[column] = pd.to_datetime(lines[column]).dt.date
    return lines


def test_new_customers_by_rep_are_first_orders_not_buyers(company: Session) -> None:
    metric = company.scalars(select(Metric).where(Metric.code == "new_customers")).one()
    reps = list(company.scalars(select(OrgNode.id).where(OrgNode.kind == "rep").order_by(OrgNode.id)))
    lines = _frame(company)
    window = lines[(lines["order_date"] >= YEAR[0]) & (lines["order_date"] <= YEAR[1])]
    new = window[(window["first_order_date"] >= YEAR[0]) & (window["first_order_date"] <= YEAR[1])]
    expected = new.groupby("rep_id")["customer_id"].nunique()
    got = data.actuals_by_rep(session=company, metric=metric, rep_ids=reps, start=YEAR[0], end=YEAR[1])
    assert got.tolist() == [int(expected.get(rep, 0)) for rep in reps]
    buyers = window.groupby("rep_id")["customer_id"].nunique()
    assert got.sum() < buyers.sum() / 5  # the old reading counted every buyer
    # By month (the SMART check's history): a new customer counts in the month of its first order.
    _labels, monthly = data.monthly_actuals(session=company, metric=metric, rep_ids=reps, start=YEAR[0], end=YEAR[1])
    first_month = new[pd.to_datetime(new["order_date"]).dt.to_period("M") == pd.to_datetime(new["first_order_date"]).dt.to_period("M")]
    per_month = first_month.assign(month=pd.to_datetime(first_month["order_date"]).dt.month).groupby(["rep_id", "month"])["customer_id"].nunique()
    expected_monthly = np.zeros_like(monthly)
    for (rep, month), count in per_month.items():
        expected_monthly[reps.index(rep), month - 1] = count
    np.testing.assert_array_equal(monthly, expected_monthly)


def test_smart_check_compares_new_customers_with_last_years_new_customers(company: Session) -> None:
    create_target(session=company, name="NC2027", year=2027, metric_code="new_customers", total="13000", by="test",
                  as_of=date(2027, 1, 15))
    split_plan(session=company, name="NC2027", options=SplitOptions(by=("org",)), by="test")
    report = check_plan(session=company, name="NC2027", as_of=date(2027, 1, 15))
    [total] = [f for f in report.findings if f.cell == "total"]
    first_orders_2026 = company.scalar(text(
        "SELECT count(*) FROM customers WHERE first_order_date BETWEEN '2026-01-01' AND '2026-12-31'"))
    buyers_2026 = company.scalar(text(
        "SELECT count(DISTINCT customer_id) FROM order_lines WHERE order_date BETWEEN '2026-01-01' AND '2026-12-31'"))
    assert f"vs 2026 {first_orders_2026:,}" in (total.figure or "")
    assert first_orders_2026 < buyers_2026 / 5
    assert total.severity == "error"  # 13,000 new customers after a year of a couple of hundred is out of reach
