"""The demo company: deterministic, realistic, and its plan adds up at every level."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attain.demo.generate import DemoCompany, generate
from attain.demo.service import load_demo
from attain.facts.models import Activity, Opportunity, OpportunityStageChange, OrderLine
from attain.org.models import OrgNode
from attain.plans.models import Plan, PlanCell

AS_OF = date(2026, 12, 31)


@pytest.fixture(scope="module")
def company() -> DemoCompany:
    return generate(seed=11, year=2026, as_of=AS_OF)


def test_same_seed_gives_the_same_company(company: DemoCompany) -> None:
    again = generate(seed=11, year=2026, as_of=AS_OF)
    assert again.orders.line_ids == company.orders.line_ids
    np.testing.assert_array_equal(again.orders.amounts, company.orders.amounts)
    assert again.opportunities == company.opportunities


def test_another_seed_gives_another_company(company: DemoCompany) -> None:
    other = generate(seed=12, year=2026, as_of=AS_OF)
    assert other.orders.amounts.sum() != company.orders.amounts.sum()


def test_company_shape(company: DemoCompany) -> None:
    assert len(company.people) == 30
    assert {p.region for p in company.people} == {"EAST", "SOUTH", "NORTH"}
    assert len({p.team for p in company.people}) == 6
    assert sum(1 for p in company.people if p.start.year == 2026) == 3
    assert sum(1 for p in company.people if p.end is not None) == 1
    assert len(company.products) == 40 and sum(1 for p in company.products if p.launched_on) == 8
    assert len(company.customers) == 2000
    assert 85_000 <= len(company.orders.line_ids) <= 115_000
    assert len(set(company.orders.line_ids)) == len(company.orders.line_ids)


def test_orders_follow_chinese_seasonality(company: DemoCompany) -> None:
    months = company.orders.dates.astype("datetime64[M]").astype(np.int64) % 12
    by_month = np.bincount(months, weights=company.orders.amounts, minlength=12)
    assert by_month[1] < 0.75 * by_month[2]  # Spring Festival: February well below March
    assert by_month.argmax() == 11  # year-end push


def test_no_rep_sells_before_joining_or_after_leaving(company: DemoCompany) -> None:
    starts = np.array([np.datetime64(p.start) for p in company.people])
    ends = np.array([np.datetime64(p.end or date(9999, 1, 1)) for p in company.people])
    reps = company.orders.reps
    assert np.all(company.orders.dates >= starts[reps])
    assert np.all(company.orders.dates <= ends[reps])


def test_new_products_sell_only_after_launch(company: DemoCompany) -> None:
    launched = np.array([np.datetime64(p.launched_on or date(1900, 1, 1)) for p in company.products])
    assert np.all(company.orders.dates >= launched[company.orders.products])


def test_amounts_are_integer_fen_with_positive_margin(company: DemoCompany) -> None:
    assert company.orders.amounts.dtype == np.int64 and company.orders.costs.dtype == np.int64
    assert np.all(company.orders.amounts > 0)
    assert company.orders.costs.sum() < company.orders.amounts.sum()


def test_pipeline_is_consistent_with_orders(company: DemoCompany) -> None:
    order_days = dict(zip(company.orders.order_ids, company.orders.dates.astype(object)))
    won = [o for o in company.opportunities if o.stage == "won"]
    assert won and all(order_days[o.name.split()[0]] == o.closed_on for o in won)
    for opportunity in company.opportunities:
        days = [day for _stage, day in opportunity.history]
        assert days == sorted(days) and days[0] == opportunity.created_on
    codes = {o.code for o in company.opportunities}
    assert all(a.opportunity in codes and a.day <= AS_OF for a in company.activities)


def test_load_demo_writes_everything_once(session: Session) -> None:
    first = load_demo(session=session, seed=5, year=2026, as_of=date(2026, 3, 31))
    second = load_demo(session=session, seed=5, year=2026, as_of=date(2026, 3, 31))
    lines = session.scalar(select(func.count()).select_from(OrderLine))
    assert lines == first["order_lines"]["inserted"] > 0
    assert second["order_lines"] == {"inserted": 0, "updated": 0, "unchanged": lines}
    assert (second["opportunities"], second["activities"]) == (0, 0)
    assert session.scalar(select(func.count()).select_from(Opportunity)) == first["opportunities"]
    assert session.scalar(select(func.count()).select_from(Activity)) == first["activities"]
    assert session.scalar(select(func.count()).select_from(OpportunityStageChange)) > first["opportunities"]


def test_demo_plan_adds_up_at_every_level(session: Session) -> None:
    load_demo(session=session, seed=5, year=2026, as_of=date(2026, 3, 31))
    plan = session.scalars(select(Plan).where(Plan.name == "FY2026")).one()
    assert plan.status == "approved" and plan.version == 1
    nodes = {n.id: n for n in session.scalars(select(OrgNode))}
    cells = session.scalars(select(PlanCell).where(PlanCell.plan_id == plan.id)).all()
    value = {(c.period, c.org_node_id): c.value for c in cells}
    assert all(c.value % plan.unit == 0 for c in cells)
    assert all(c.owner_id is not None and c.strategy_note and c.assessment_rule for c in cells)
    # Children sum to their parent, for every month and for the year.
    for period in {c.period for c in cells}:
        children: dict[int, int] = defaultdict(int)
        for (p, node_id), amount in value.items():
            parent = nodes[node_id].parent_id
            if p == period and parent is not None:
                children[parent] += amount
        for parent_id, total in children.items():
            assert value[(period, parent_id)] == total, (period, nodes[parent_id].code)
    # Months sum to the year, for every node.
    for node_id in {n for _p, n in value}:
        months = sum(v for (p, n), v in value.items() if n == node_id and "-" in p)
        assert months == value[("2026", node_id)]
    root = next(n for n in nodes.values() if n.parent_id is None)
    assert value[("2026", root.id)] == plan.total
    # Nothing for the leaver; the March hire gets nothing before March.
    hire = next(n for n in nodes.values() if n.start_date == date(2026, 3, 1))
    assert value.get(("2026-01", hire.id), 0) == 0 and value[("2026-06", hire.id)] > 0
