"""Issue 17: any customer attribute is a dimension — reports by segment / grade / industry equal an
independent pandas recomputation on the demo, grades written back keep their history (last year's
figures by grade use last year's grades), plans split by a customer attribute sum exactly and are
tracked by it, the leaderboard filters by it; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from attain.catalog.activity import apply_grades, grade_customers
from attain.catalog.grading import AbcThresholds
from attain.catalog.models import Customer, CustomerAttribute
from attain.db import get_engine, make_session_factory
from attain.errors import InvalidInput
from attain.periods import parse_period
from attain.plans.models import Plan, PlanCell
from attain.plans.setting import create_target
from attain.plans.splitting import SplitOptions, split_plan
from attain.tracking.attainment import actuals, attainment
from attain.tracking.leaderboard import leaderboard
from tests.databases import demo_database

AS_OF = date(2026, 11, 23)


def _lines(session: Session, start: date, end: date) -> pd.DataFrame:
    """Order lines of [start, end] with their customer's current columns, read by pandas."""
    frame = pd.read_sql(text(
        "SELECT l.order_date, l.amount, c.id AS customer_id, c.segment, c.grade, c.industry FROM order_lines l "
        "LEFT JOIN customers c ON c.id = l.customer_id"), session.connection())
    frame["order_date"] = pd.to_datetime(frame["order_date"]).dt.date
    return frame[(frame["order_date"] >= start) & (frame["order_date"] <= end)]


def _by(frame: pd.DataFrame, columns: list[str]) -> dict[tuple[object, ...], int]:
    grouped = frame.fillna({c: "—" for c in columns}).groupby(columns)["amount"].sum()
    return {(k if isinstance(k, tuple) else (k,)): int(v) for k, v in grouped.items()}


def _report(session: Session, period: str, by: str, as_of: date = AS_OF) -> dict[tuple[object, ...], int]:
    result = actuals(session=session, period=parse_period(period), by=by, as_of=as_of)
    assert sum(int(r.value) for r in result.rows) == int(result.total)
    return {tuple("—" if k is None else k for k in r.key): int(r.value) for r in result.rows}


@pytest.mark.parametrize("by", ["segment", "grade", "industry", "segment,grade"])
def test_report_by_customer_attribute_equals_pandas(demo: Session, by: str) -> None:
    columns = by.split(",")
    expected = _by(_lines(demo, date(2026, 1, 1), AS_OF), columns)
    assert _report(demo, "2026", by) == expected
    assert {k[0] for k in expected} >= ({"大客户", "中小企业", "渠道伙伴"} if columns[0] == "segment" else set())


def test_report_by_segment_and_region_keeps_the_total(demo: Session) -> None:
    plain = actuals(session=demo, period=parse_period("2026"), by="region", as_of=AS_OF)
    split = actuals(session=demo, period=parse_period("2026"), by="region,segment", as_of=AS_OF)
    assert split.total == plain.total == sum(r.value for r in split.rows)
    for row in plain.rows:
        assert sum(r.value for r in split.rows if r.key[0] == row.key[0]) == row.value


@pytest.mark.parametrize(("by", "message"), [
    ("segmnt", "cannot report by 'segmnt'"),
    ("attr:渠道类型", "no customer has the attribute '渠道类型'"),
    ("segment,grade,industry", "at most two customer attributes"),
])
def test_bad_dimension_is_a_clear_error(demo: Session, by: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        actuals(session=demo, period=parse_period("2026"), by=by, as_of=AS_OF)


# --- on a copy of the demo: grades written back, plans split by segment --------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def company(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    with demo_database(request.param, tmp_path, "attain_dims") as url:
        session = make_session_factory(get_engine(url))()
        try:
            yield session
        finally:
            session.close()


def test_grades_written_back_keep_last_years_grades(company: Session) -> None:
    """Issue 17: the computed ABC grade was never written back. `--apply` stores it in the customer and
    in its history from the as-of day: 2025 by grade still uses the grades of 2025."""
    before_2025 = _report(company, "2025", "grade", as_of=date(2025, 12, 31))
    old_grades = dict(company.execute(select(Customer.id, Customer.grade)).all())
    result = grade_customers(session=company, scope=None, as_of=AS_OF, thresholds=AbcThresholds())
    applied = apply_grades(session=company, grading_result=result)
    new_grades = {row.activity.customer_id: row.abc for row in result.rows}
    changed = {c for c in new_grades if new_grades[c] != old_grades[c]}
    assert changed and {c.customer_id for c in applied.grade_changes} == changed
    assert dict(company.execute(select(Customer.id, Customer.grade)).all()) == {**old_grades, **new_grades}
    # Last year's figures by grade are unchanged (the history keeps the old grades before the as-of day) …
    assert _report(company, "2025", "grade", as_of=date(2025, 12, 31)) == before_2025
    # … and sales from the as-of day on use the new ones (pandas with the customers' new column).
    december = _lines(company, AS_OF, AS_OF)
    assert _report(company, "2026-11-23", "grade") == _by(december, ["grade"])
    # The RFM segment has its history too; applying the same grading again changes nothing.
    assert company.scalar(select(CustomerAttribute.id).where(CustomerAttribute.name == "rfm").limit(1)) is not None
    again = apply_grades(session=company, grading_result=result)
    assert again.grade_changes == [] and again.rfm_changes == []


def _split(session: Session, name: str, weights: dict[str, str] | None = None, method: str = "equal", by: str = "org,time,segment") -> Plan:
    create_target(session=session, name=name, year=2026, metric_code="revenue", total="240000000", by="test", as_of=AS_OF)
    options = SplitOptions(by=tuple(by.split(",")), method=method, weights={"segment": weights} if weights else {})
    split_plan(session=session, name=name, options=options, by="test", as_of=AS_OF)
    return session.scalars(select(Plan).where(Plan.name == name)).one()


def test_split_by_segment_sums_exactly_with_weights(company: Session) -> None:
    plan = _split(company, "SEG", {"大客户": "60", "中小企业": "25", "渠道伙伴": "15"})
    cells = company.execute(select(PlanCell.period, PlanCell.org_node_id, PlanCell.customer_type, PlanCell.customer_axis,
                                   PlanCell.customer_value, PlanCell.value).where(PlanCell.plan_id == plan.id)).all()
    totals = {(c.period, c.org_node_id): c.value for c in cells if c.customer_axis == ""}
    members: dict[tuple[str, int], int] = {}
    for c in cells:
        if c.customer_axis:
            assert c.customer_axis == "segment" and c.customer_type == "all"
            members[(c.period, c.org_node_id)] = members.get((c.period, c.org_node_id), 0) + c.value
    assert members == totals  # every node and period: the segments add up to the cell of all customers, exactly
    root = min(totals, key=lambda key: (len(key[0]), key[1]))
    year = {c.customer_value: c.value for c in cells if c.period == "2026" and c.org_node_id == root[1] and c.customer_axis}
    assert year == {"大客户": 144_000_000_00, "中小企业": 60_000_000_00, "渠道伙伴": 36_000_000_00}


def test_split_by_segment_is_tracked_by_segment(company: Session) -> None:
    plan = _split(company, "SEG", {"大客户": "60", "中小企业": "25", "渠道伙伴": "15"})
    report = attainment(session=company, period=parse_period("2026"), by="segment", plan="SEG", as_of=AS_OF, preview=True)
    by_segment = {r.key[0]: r for r in report.rows}
    assert {k: r.target for k, r in by_segment.items()} == {
        "大客户": Decimal(144_000_000_00), "中小企业": Decimal(60_000_000_00), "渠道伙伴": Decimal(36_000_000_00)}
    assert {k: int(r.actual) for k, r in by_segment.items()} == {k[0]: v for k, v in _report(company, "2026", "segment").items()}
    assert report.total.target == Decimal(240_000_000_00)
    # The leaderboard of sales to 大客户 ranks the reps on those sales against their 大客户 targets.
    plan.status = "approved"
    company.commit()
    board = leaderboard(session=company, period=parse_period("2026"), plan="SEG", as_of=AS_OF, customers=("segment", "大客户"))
    assert board.rows and all(row.row.key[1] == "大客户" and row.row.target is not None for row in board.rows)
    whole = attainment(session=company, period=parse_period("2026"), by="rep,segment", plan="SEG", as_of=AS_OF)
    assert sorted(int(r.row.actual) for r in board.rows) == sorted(int(r.actual) for r in whole.rows if r.key[1] == "大客户")
    with pytest.raises(InvalidInput, match="no customer has segment '大 客户'"):
        leaderboard(session=company, period=parse_period("2026"), plan="SEG", as_of=AS_OF, customers=("segment", "大 客户"))


def test_history_split_by_segment_follows_last_years_segments(company: Session) -> None:
    plan = _split(company, "HIST", method="history")
    cells = company.execute(select(PlanCell.org_node_id, PlanCell.customer_value, PlanCell.value)
                            .where(PlanCell.plan_id == plan.id, PlanCell.period == "2026", PlanCell.customer_axis == "segment")).all()
    root = min(c.org_node_id for c in cells)
    shares = {c.customer_value: c.value for c in cells if c.org_node_id == root}
    last_year = {k[0]: v for k, v in _report(company, "2025", "segment", as_of=date(2025, 12, 31)).items()}
    total = sum(last_year.values())
    assert set(shares) == set(last_year)
    for segment, value in shares.items():
        # Last year's shares of the plan's reps (reps who left are not in it): within 0.5 % of the
        # company's shares, and far from an equal third each.
        expected = Fraction(240_000_000_00 * last_year[segment], total)
        assert abs(value - expected) < expected * Fraction(5, 1000)
        assert abs(value - 80_000_000_00) > 10_000_000_00


@pytest.mark.parametrize(("by", "weights", "message"), [
    ("org,time,segment", {"segment": {"大客户": "60", "中小企业": "40"}}, "segment weights must name every member; missing 渠道伙伴"),
    ("org,time,customer_type", {"customer_type": {"大客户": "60", "中小企业": "40"}}, "not one of new, existing"),
    ("org,time,segment,customer_type", {}, "split customers by one axis at a time"),
    ("org,time,segmnt", {}, "cannot split by 'segmnt'"),
    ("org,time,segment", {"segment": {"大客户": "x", "中小企业": "1", "渠道伙伴": "1"}}, "not a number"),
])
def test_bad_split_axis_or_member_is_a_clear_error(company: Session, by: str, weights: dict[str, dict[str, str]], message: str) -> None:
    create_target(session=company, name="BAD", year=2026, metric_code="revenue", total="1000000", by="test", as_of=AS_OF)
    with pytest.raises(InvalidInput, match=message):
        split_plan(session=company, name="BAD", options=SplitOptions(by=tuple(by.split(",")), weights=weights), by="test")
