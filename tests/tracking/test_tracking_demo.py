"""Tracking figures on the demo company equal an independent pandas recomputation, to the cent,
on SQLite, PostgreSQL and DuckDB-on-a-Parquet-file."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path

import chinese_calendar
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from attain.db import get_engine, make_session_factory
from attain.periods import parse_period
from attain.tracking.attainment import actuals, attainment
from attain.tracking.engine import open_duckdb, tables_read_by
from attain.tracking.leaderboard import leaderboard
from attain.tracking.query import Grouping, actuals_statement

AS_OF = date(2026, 11, 23)


def _frames(session: Session) -> dict[str, pd.DataFrame]:
    connection = session.connection()
    return {
        "orders": pd.read_sql(text("SELECT order_id, order_date, rep_id, customer_id, product_id, amount, cost, quantity FROM order_lines"), connection),
        "nodes": pd.read_sql(text("SELECT id, parent_id, kind FROM org_nodes"), connection),
        "customers": pd.read_sql(text("SELECT id, customer_type, first_order_date FROM customers"), connection),
        "products": pd.read_sql(text("SELECT id, parent_id FROM product_nodes"), connection),
        "cells": pd.read_sql(text(
            "SELECT c.org_node_id, c.period_start, c.period_end, c.value, c.period FROM plan_cells c JOIN plans p ON p.id = c.plan_id "
            "WHERE p.name = 'FY2026' AND c.product_node_id IS NULL AND c.customer_type = 'all'"), connection),
    }


def _pandas_lines(frames: dict[str, pd.DataFrame], start: date, end: date) -> pd.DataFrame:
    """Order lines in [start, end] with team, region, product line and customer type, by pandas."""
    orders = frames["orders"].copy()
    orders["order_date"] = pd.to_datetime(orders["order_date"]).dt.date
    lines = orders[(orders["order_date"] >= start) & (orders["order_date"] <= end)].copy()
    nodes = frames["nodes"].set_index("id")
    parent = nodes["parent_id"]
    kind = nodes["kind"]
    team = lines["rep_id"].map(parent)
    lines["team"] = team.where(team.map(kind) == "team")
    region = lines["team"].map(parent)
    lines["region"] = region.where(region.map(kind) == "region")
    products = frames["products"].set_index("id")["parent_id"]
    lines["product_line"] = lines["product_id"].map(products).fillna(lines["product_id"])
    customers = frames["customers"].set_index("id")
    first = pd.to_datetime(lines["customer_id"].map(customers["first_order_date"])).dt.date
    override = lines["customer_id"].map(customers["customer_type"])
    derived = ["new" if (pd.isna(f) or f >= start) else "existing" for f in first]
    lines["customer_type"] = override.where(override.notna(), derived)
    lines["first"] = first
    lines["rep"] = lines["rep_id"]
    return lines


def _pandas_values(lines: pd.DataFrame, dims: list[str], metric: str, start: date, end: date) -> dict[tuple, object]:
    frame = lines.copy()
    if metric == "revenue":
        series = frame.groupby(dims, dropna=False)["amount"].sum()
    elif metric == "gross_profit":
        frame = frame[frame["cost"].notna()]
        frame["gp"] = frame["amount"] - frame["cost"]
        series = frame.groupby(dims, dropna=False)["gp"].sum()
    elif metric == "quantity":
        frame["q"] = frame["quantity"].map(lambda q: Decimal(str(q)))
        series = frame.groupby(dims, dropna=False)["q"].sum()
    elif metric == "orders":
        series = frame.groupby(dims, dropna=False)["order_id"].nunique()
    else:
        new = frame[frame["first"].map(lambda f: not pd.isna(f) and start <= f <= end)]
        series = new.groupby(dims, dropna=False)["customer_id"].nunique()
    result = {}
    for key, value in series.items():
        key = key if isinstance(key, tuple) else (key,)
        norm = tuple(None if pd.isna(k) else (k if isinstance(k, str) else int(k)) for k in key)
        result[norm] = Decimal(value) if isinstance(value, Decimal) else int(value)
    return result


def _service_values(result) -> dict[tuple, object]:  # type: ignore[no-untyped-def]
    return {row.key: (Decimal(row.value) if isinstance(row.value, Decimal) else row.value) for row in result.rows}


@pytest.mark.parametrize("by", ["rep", "product_line", "region,team,customer_type"])
def test_actuals_equal_pandas_by_every_dimension(demo: Session, by: str) -> None:
    period = parse_period("2026Q3")
    result = actuals(session=demo, period=period, by=by)
    lines = _pandas_lines(_frames(demo), period.start, period.end)
    expected = _pandas_values(lines, by.split(","), "revenue", period.start, period.end)
    assert _service_values(result) == expected
    assert result.total == int(lines["amount"].sum())


@pytest.mark.parametrize("metric", ["gross_profit", "quantity", "orders", "new_customers"])
def test_actuals_equal_pandas_for_every_metric(demo: Session, metric: str) -> None:
    period = parse_period("2026-05")
    result = actuals(session=demo, period=period, by="region", metric=metric)
    lines = _pandas_lines(_frames(demo), period.start, period.end)
    expected = _pandas_values(lines, ["region"], metric, period.start, period.end)
    assert {k: Decimal(v) for k, v in _service_values(result).items()} == {k: Decimal(v) for k, v in expected.items()}


def _working_days(start: date, end: date) -> int:
    return sum(chinese_calendar.is_workday(start + timedelta(days=i)) for i in range((end - start).days + 1))


def _pandas_targets(cells: pd.DataFrame, start: date, end: date) -> dict[int, Fraction]:
    """Month cells prorated by working days, by plain Python: the independent target."""
    months = cells[cells["period"].str.len() == 7]
    targets: dict[int, Fraction] = {}
    for node, cell_start, cell_end, value in months[["org_node_id", "period_start", "period_end", "value"]].itertuples(index=False):
        cell_start, cell_end = pd.Timestamp(cell_start).date(), pd.Timestamp(cell_end).date()
        lo, hi = max(cell_start, start), min(cell_end, end)
        if lo > hi:
            continue
        share = Fraction(_working_days(lo, hi), _working_days(cell_start, cell_end))
        targets[int(node)] = targets.get(int(node), Fraction(0)) + int(value) * share
    return targets


def _round(value: Fraction, step: str = "1") -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(step), rounding=ROUND_HALF_EVEN)


@pytest.mark.parametrize(("label", "by"), [("2026-W05", "rep"), ("2026Q1", "team")])
def test_attainment_equals_pandas(demo: Session, label: str, by: str) -> None:
    period = parse_period(label)
    result = attainment(session=demo, period=period, by=by, as_of=AS_OF)
    frames = _frames(demo)
    lines = _pandas_lines(frames, period.start, min(period.end, AS_OF))
    actual = _pandas_values(lines, [by], "revenue", period.start, period.end)
    targets = _pandas_targets(frames["cells"], period.start, period.end)
    assert result.rows, "the demo has targets and sales in every tested period"
    for row in result.rows:
        node = row.key[0]
        assert row.actual == actual.get((node,), 0)
        assert row.target == _round(targets[node])
        assert row.target_source == "own"
        expected = _round(Fraction(row.actual) / targets[node], "0.0001") if targets[node] else None
        assert row.figures.attainment == expected
    assert result.total.actual == int(lines["amount"].sum())
    root = int(frames["nodes"].loc[frames["nodes"]["parent_id"].isna(), "id"].iloc[0])
    assert result.total.target == _round(targets[root])


def test_rep_targets_add_up_to_the_company_target(demo: Session) -> None:
    result = attainment(session=demo, period=parse_period("2026H1"), by="rep", as_of=AS_OF)
    assert sum(r.target for r in result.rows if r.target is not None) == result.total.target


def test_month_dimension_gives_each_month_its_own_window(demo: Session) -> None:
    result = attainment(session=demo, period=parse_period("2026Q1"), by="team,month", as_of=date(2026, 2, 14))
    months = {row.key[1] for row in result.rows}
    assert months == {202601, 202602, 202603}
    january = next(r for r in result.rows if r.key[1] == 202601)
    march = next(r for r in result.rows if r.key[1] == 202603)
    assert january.progress.days_elapsed == 31 and january.progress.calendar_share == 1
    assert march.progress.days_elapsed == 0 and march.figures.status == "not started"
    assert march.actual == 0


@pytest.fixture(scope="module")
def duckdb_runner(demo_url: str, demo_parquet: Path):  # type: ignore[no-untyped-def]
    statement = actuals_statement(metric="new_customers", grouping=Grouping(("product_line", "customer_type")),
                                  start=date(2026, 1, 1), end=date(2026, 1, 1))
    session = make_session_factory(get_engine(demo_url))()
    runner = open_duckdb(session=session, orders=demo_parquet, tables=tables_read_by([statement]))
    session.close()
    yield runner
    runner.close()


@pytest.mark.parametrize(("by", "metric"), [("team,product_line", "gross_profit"), ("region,customer_type", "new_customers")])
def test_duckdb_on_parquet_gives_the_same_actuals(demo: Session, duckdb_runner, by: str, metric: str) -> None:  # type: ignore[no-untyped-def]
    period = parse_period("2026Q2")
    on_db = actuals(session=demo, period=period, by=by, metric=metric)
    on_file = actuals(session=demo, period=period, by=by, metric=metric, runner=duckdb_runner)
    assert on_file.engine == "duckdb"
    assert on_file.rows == on_db.rows
    assert on_file.total == on_db.total


def test_duckdb_on_parquet_gives_the_same_attainment(demo: Session, duckdb_runner) -> None:  # type: ignore[no-untyped-def]
    period = parse_period("2026-10")
    on_db = attainment(session=demo, period=period, by="rep", as_of=date(2026, 10, 20))
    on_file = attainment(session=demo, period=period, by="rep", as_of=date(2026, 10, 20), runner=duckdb_runner)
    assert on_file.rows == on_db.rows
    assert on_file.total == on_db.total


def test_leaderboard_is_ranked_by_attainment_with_consistent_milestones(demo: Session) -> None:
    board = leaderboard(session=demo, period=parse_period("2026Q3"), by="rep", as_of=AS_OF)
    attained = [r.row.figures.attainment for r in board.rows if r.row.figures.attainment is not None]
    assert attained == sorted(attained, reverse=True)
    for leader in board.rows:
        reached = dict(leader.milestones.reached)
        share = leader.row.figures.attainment or Decimal(0)
        for milestone, day in reached.items():
            assert (day is not None) == (Fraction(leader.row.actual) >= Fraction(leader.row.target or 0) * Fraction(milestone)) or leader.row.target is None
        days = [d for d in reached.values() if d is not None]
        assert days == sorted(days)
        if leader.row.actual > 0:
            assert leader.milestones.first_deal is not None
        assert leader.milestones.current_day_streak <= leader.milestones.longest_day_streak
        assert share >= 0
